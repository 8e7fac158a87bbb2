# Homeward: a slim image with the CPU build of torch and the bundled models.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    HOMEWARD_DATA_DIR=/data

WORKDIR /app

# The CPU wheel first, from PyTorch's CPU index, so that nothing pulls a CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY service ./service
COPY matching ./matching
COPY web ./web
COPY seed_data ./seed_data
RUN pip install .

RUN useradd --create-home --uid 10001 homeward \
    && mkdir -p /data && chown homeward:homeward /data
USER homeward
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"

# Migrations are idempotent: apply them, then serve.
CMD ["sh", "-c", "homeward migrate && homeward serve --host 0.0.0.0 --port 8000"]
