"""Every benchmark tool under bench/ starts, and each that can run small runs once.

The tools are run as a person runs them: `python bench/<tool>.py ...` from the repository root
with this venv's python, in a subprocess. The world, the benchmark split and the caches are
tiny and live in the test's tmp folder; the `hashing` encoder stands in for the bundled models
(their own tests load those), so nothing here downloads or loads a model. PostgreSQL and
Meilisearch runs happen where the suite has them (HOMEWARD_TEST_DATABASE_URL,
HOMEWARD_TEST_MEILI_URL), as in tests/search. What is checked is that each tool gets through
its core path and prints the figures it promises, never the figures' values.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
TOOLS = sorted(path.stem for path in BENCH.glob("*.py"))
DATABASE_URL = os.environ.get("HOMEWARD_TEST_DATABASE_URL", "")
MEILI_URL = os.environ.get("HOMEWARD_TEST_MEILI_URL", "")
needs_postgres = pytest.mark.skipif(not DATABASE_URL, reason="HOMEWARD_TEST_DATABASE_URL not set")
needs_meili = pytest.mark.skipif(not MEILI_URL, reason="HOMEWARD_TEST_MEILI_URL not set")
pytestmark = pytest.mark.bench
PAGES = (
    "landing",
    "need_review",
    "expert_search",
    "coordinator_dashboard",
    "expert_needs_for_you",
    "api_expert_search",
)


@pytest.fixture(autouse=True)
def _scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keeps what the tools write (temporary folders, a development secret key) in tmp_path."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path / "data"))


def _run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs this venv's python with `args` from the repository root; fails on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}\n"
        f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-5000:]}"
    )
    return done


def _json(stdout: str) -> dict[str, Any]:
    """Reads a tool's --json output as bench/speed_report.py reads it."""
    result: dict[str, Any] = json.loads(stdout[stdout.index("{") :])
    return result


def _speed_row(name: str, result: dict[str, Any], results: Path) -> str:
    """Renders a tool's output through `speed_report.py table`, as if `run` had kept it."""
    results.mkdir(parents=True, exist_ok=True)
    kept = {
        **result,
        "_commit": "0000000",
        "_date": "2026-12-03 11:40 UTC",
        "_seconds": 1,
        "_load_before": [1.2, 0.9, 0.7],
        "_load_after": [1.4, 1.0, 0.7],
    }
    (results / f"{name}.json").write_text(json.dumps(kept))
    table = _run("bench/speed_report.py", "table", "--results", str(results)).stdout
    rows = [line for line in table.splitlines() if "2026-12-03 11:40 UTC" in line]
    assert len(rows) == 1, table
    return rows[0]


# --- a tiny benchmark split, in the shared split's format (/work/shared/bench/README.md) -------

OCCUPATIONS: list[dict[str, Any]] = [
    {
        "id": "D0101",
        "titles": {
            "en": "epidemiologist",
            "fr": "épidémiologiste",
            "es": "epidemiólogo/epidemióloga",
        },
        "texts": {
            "en": "Epidemiologists study the patterns, causes and effects of diseases in "
            "populations, design surveillance systems and advise public-health authorities.",
            "fr": "Les épidémiologistes étudient la répartition et les causes des maladies dans "
            "les populations, conçoivent la surveillance et conseillent les autorités sanitaires.",
            "es": "Los epidemiólogos estudian la distribución y las causas de las enfermedades en "
            "la población, diseñan la vigilancia y asesoran a las autoridades sanitarias.",
        },
        "headlines": [
            "field epidemiologist",
            "infectious disease epidemiologist",
            "epidemiology officer",
        ],
        "skills": [
            "outbreak investigation",
            "disease surveillance",
            "biostatistics",
            "public health",
            "write scientific reports",
            "R",
        ],
        "neighbour": "D0102",
    },
    {
        "id": "D0102",
        "titles": {
            "en": "biostatistician",
            "fr": "biostatisticien/biostatisticienne",
            "es": "bioestadístico",
        },
        "texts": {
            "en": "Biostatisticians design studies and analyse clinical and health data with "
            "statistical models.",
            "fr": "Les biostatisticiens conçoivent des études et analysent des données cliniques "
            "et de santé à l'aide de modèles statistiques.",
            "es": "Los bioestadísticos diseñan estudios y analizan datos clínicos y de salud con "
            "modelos estadísticos.",
        },
        "headlines": [
            "clinical biostatistician",
            "statistician in health research",
            "biostatistics lead",
        ],
        "skills": [
            "survival analysis",
            "clinical trials",
            "statistical software",
            "sample size calculation",
            "SAS",
            "teach statistics",
        ],
        "neighbour": "D0101",
    },
    {
        "id": "D0103",
        "titles": {"en": "hydrologist", "fr": "hydrologue", "es": "hidrólogo/hidróloga"},
        "texts": {
            "en": "Hydrologists study the quality, challenges and distribution of water, and "
            "plan how to supply it to towns and farms.",
            "fr": "Les hydrologues étudient la qualité et la répartition de l'eau et planifient "
            "son approvisionnement pour les villes et les exploitations agricoles.",
            "es": "Los hidrólogos estudian la calidad y la distribución del agua y planifican su "
            "suministro a ciudades y explotaciones agrícolas.",
        },
        "headlines": [
            "groundwater hydrologist",
            "water resources hydrologist",
            "hydrology consultant",
        ],
        "skills": [
            "groundwater modelling",
            "GIS",
            "collect water samples",
            "flood risk assessment",
            "hydrological data",
            "write technical reports",
        ],
        "neighbour": "D0104",
    },
    {
        "id": "D0104",
        "titles": {
            "en": "irrigation engineer",
            "fr": "ingénieur en irrigation/ingénieure en irrigation",
            "es": "ingeniero de riego/ingeniera de riego",
        },
        "texts": {
            "en": "Irrigation engineers design and maintain systems that bring water to crops.",
            "fr": "Les ingénieurs en irrigation conçoivent et entretiennent les réseaux qui "
            "amènent l'eau aux cultures.",
            "es": "Los ingenieros de riego diseñan y mantienen los sistemas que llevan el agua a "
            "los cultivos.",
        },
        "headlines": [
            "drip irrigation engineer",
            "agricultural water engineer",
            "irrigation design engineer",
        ],
        "skills": [
            "design irrigation systems",
            "soil science",
            "pumps",
            "AutoCAD",
            "water management",
            "agronomy",
        ],
        "neighbour": "D0103",
    },
]


@pytest.fixture
def bench_split(tmp_path: Path) -> Path:
    """Writes a 12-profile, 4-need benchmark split (en/fr/es) with consistent qrels."""
    split = tmp_path / "split"
    split.mkdir()
    profiles: list[dict[str, Any]] = []
    owners: dict[str, list[str]] = {}
    for occupation in OCCUPATIONS:
        for headline in occupation["headlines"]:
            profile_id = f"P{len(profiles) + 1:05d}"
            owners.setdefault(occupation["id"], []).append(profile_id)
            skills = list(occupation["skills"])
            profiles.append(
                {
                    "profile_id": profile_id,
                    "lang": "en",
                    "headline": headline,
                    "skills": skills,
                    "bio": f"{headline.capitalize()}. Experienced in: {'; '.join(skills[:4])}. "
                    f"Knowledge of {skills[4]} and {skills[5]}.",
                }
            )
    lines = "\n".join(json.dumps(p, ensure_ascii=False) for p in profiles)
    (split / "profiles.jsonl").write_text(lines + "\n", encoding="utf-8")
    for lang in ("en", "fr", "es"):
        needs: list[dict[str, str]] = []
        qrels: list[str] = []
        for occupation in OCCUPATIONS:
            need_id = f"{occupation['id']}-{lang}"
            needs.append(
                {
                    "need_id": need_id,
                    "lang": lang,
                    "title": occupation["titles"][lang],
                    "text": occupation["texts"][lang],
                }
            )
            qrels += [f"{need_id}\t0\t{p}\t2" for p in owners[occupation["id"]]]
            qrels += [f"{need_id}\t0\t{p}\t1" for p in owners[occupation["neighbour"]]]
        rows = "\n".join(json.dumps(n, ensure_ascii=False) for n in needs)
        (split / f"needs_desc_{lang}.jsonl").write_text(rows + "\n", encoding="utf-8")
        (split / f"qrels_desc_{lang}.tsv").write_text("\n".join(qrels) + "\n")
    return split


@pytest.fixture
def bench_env(bench_split: Path, tmp_path: Path) -> dict[str, str]:
    """Points the tools at the tiny split and keeps their caches in the test's tmp folder."""
    return {
        "HOMEWARD_BENCH_DIR": str(bench_split),
        "HOMEWARD_BENCH_CACHE": str(tmp_path / "cache"),
    }


# --- every tool starts ------------------------------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS)
def test_help(tool: str) -> None:
    """`--help` prints the tool's usage and exits 0."""
    done = _run(f"bench/{tool}.py", "--help", timeout=60)
    assert done.stdout.startswith("usage:")
    assert f"{tool}.py" in done.stdout.splitlines()[0]


# Imports every tool as a module (its top level, not its main) and checks that every name a
# tool takes from this project, at its top or inside a function run later, exists: a rename
# in service/, matching/ or a sibling tool (page_profile's `_inline_threadpool` once) left
# tools that still said `--help` unable to run.
IMPORT_CHECK = textwrap.dedent(
    """
    import ast, importlib, importlib.util, runpy, sys
    from pathlib import Path

    root = Path.cwd()
    bench = root / "bench"
    sys.path[:0] = [str(root), str(bench)]
    tools = sorted(p.stem for p in bench.glob("*.py"))
    local = {"service", "matching", "seed_data", *tools}
    problems = []

    def resolve(module, name, where):
        try:
            imported = importlib.import_module(module)
        except Exception as error:
            problems.append(f"{where}: import {module}: {error!r}")
            return
        if name is None or hasattr(imported, name):
            return
        try:
            importlib.import_module(f"{module}.{name}")
        except ImportError:
            problems.append(f"{where}: {module} has no {name}")

    for tool in tools:
        path = bench / f"{tool}.py"
        try:
            runpy.run_path(str(path), run_name=f"bench_{tool}")
        except BaseException as error:
            problems.append(f"{tool}: importing it raised {error!r}")
        aliases = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{tool}.py:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                top = node.module.split(".")[0]
                if top in local:
                    for alias in node.names:
                        resolve(node.module, alias.name, where)
                elif importlib.util.find_spec(top) is None:
                    problems.append(f"{where}: no module {top}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    if top in local:
                        resolve(alias.name, None, where)
                        aliases[alias.asname or alias.name] = alias.name
                    elif importlib.util.find_spec(top) is None:
                        problems.append(f"{where}: no module {top}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                resolve(aliases[node.value.id], node.attr, f"{tool}.py:{node.lineno}")
    print("\\n".join(problems))
    sys.exit(1 if problems else 0)
    """
)


def test_every_name_a_tool_imports_exists() -> None:
    """Every tool imports, and every project name it imports anywhere in its code exists."""
    _run("-c", IMPORT_CHECK, timeout=120)


# --- the pages: page_profile builds a world, page_sampler and http_load reuse it --------------


def test_page_tools_on_one_world(tmp_path: Path) -> None:
    """page_profile serves every page 200 on a fresh world; page_sampler samples one of them;
    http_load serves the same world with two uvicorn workers and speed_report renders it."""
    world = tmp_path / "world"
    profiled = _run(
        *("bench/page_profile.py", "--experts", "24", "--repeat", "2"),
        *("--sql", "1", "--profile", "3", "--data-dir", str(world)),
    ).stdout
    assert "world: 24 experts built" in profiled
    statuses = dict(re.findall(r"^(\w+)\s+(\d{3})\s+\d", profiled, re.M))
    assert statuses == dict.fromkeys(PAGES, "200"), profiled
    assert "ms/req" in profiled and "ncalls" in profiled  # --sql and --profile printed

    sampled = _run(
        "bench/page_sampler.py",
        "need_review",
        "--data-dir",
        str(world),
        "--requests",
        "10",
    ).stdout
    assert re.search(r"^need_review: \d+ samples over 10 requests", sampled, re.M), sampled
    assert "--- owner: time charged to the nearest application function" in sampled

    loaded = _run(
        *("bench/http_load.py", "--world", str(world), "--workers", "2"),
        *("--requests", "6", "--concurrency", "2", "--page-budget-s", "20", "--json"),
        timeout=180,
    ).stdout
    result = _json(loaded)
    measured = {p["page"]: p for p in result["pages"]}
    assert set(measured) == set(PAGES), result
    for page in measured.values():
        assert not page.get("skipped") and page["requests"] > 0 and page["errors"] == 0, page
    row = _speed_row("pages", result, tmp_path / "results")
    assert "need review" in row and "req/s" in row


def test_page_diff_against_this_tree() -> None:
    """page_diff builds and seasons a world in one tree, serves it from both and finds no
    difference when both trees are this one."""
    page_diff = ("bench/page_diff.py", "--against", str(ROOT), "--experts", "24", "--show", "5")
    done = _run(*page_diff, timeout=180)
    found = re.search(r"^(\d+) answers identical, (\d+) differ$", done.stdout, re.M)
    assert found, done.stdout
    assert int(found[1]) > 100 and found[2] == "0", done.stdout


# --- search, import, matching ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "row"),
    [
        pytest.param("fts5", "search_fts5", id="fts5"),
        pytest.param("postgres", "search_postgres", id="postgres", marks=needs_postgres),
        pytest.param("meili", "search_meili_10k", id="meili", marks=needs_meili),
    ],
)
def test_search_speed(backend: str, row: str, tmp_path: Path) -> None:
    """search_speed fills a backend with a few dozen experts and times every query shape."""
    done = _run(
        *("bench/search_speed.py", "--backend", backend, "--n", "60", "--queries", "3"),
        *("--query-model", "", "--rebuild", "--json"),
        env={"HOMEWARD_BENCH_CACHE": str(tmp_path / "cache")},
        timeout=180,
    )
    result = _json(done.stdout)
    assert result["n_docs"] == 60 and result["backend"] == backend
    assert len(result["shapes"]) >= 4
    for figures in result["shapes"].values():
        assert figures["p50_ms"] > 0
    assert "60 experts" in _speed_row(row, result, tmp_path / "results")


def test_import_speed(tmp_path: Path) -> None:
    """import_speed imports a generated roster, then imports it again as all unchanged."""
    result = _json(_run("bench/import_speed.py", "--rows", "20", "--json").stdout)
    assert result["import"]["created"] == 20 and result["import"]["errors"] == 0
    assert result["reimport"]["unchanged"] == 20 and result["reimport"]["created"] == 0
    assert "20 experts from CSV" in _speed_row("import", result, tmp_path / "results")


def test_matching_speed(tmp_path: Path) -> None:
    """matching_speed's retrieval part (random vectors, no encoder) at a few hundred experts."""
    result = _json(
        _run(
            "bench/matching_speed.py", "--sizes", "300", "--queries", "5", "--skip-rss", "--json"
        ).stdout
    )
    (retrieval,) = result["retrieval"]
    assert retrieval["n_experts"] == 300 and 0 <= retrieval["int8_top10_overlap"] <= 1
    assert "300 experts top-10" in _speed_row("matching", result, tmp_path / "results")


def test_rematch_latency(bench_env: dict[str, str], tmp_path: Path) -> None:
    """rematch_latency builds a world from the split, then times need and expert jobs."""
    result = _json(
        _run(
            *("bench/rematch_latency.py", "--experts", "30", "--needs", "4", "--changes", "2"),
            *("--full-runs", "1", "--after-bulk", "1", "--encoder", "hashing", "--json"),
            env=bench_env,
        ).stdout
    )
    assert result["n_experts"] == 30
    for kind in ("need", "expert"):
        assert result[kind]["runs"] == 2 and result[f"{kind}_full"]["runs"] == 1
    assert result["need_after_bulk"]["runs"] == 1
    assert "30 experts" in _speed_row("rematch_10k", result, tmp_path / "results")


# --- quality tools on the tiny split, with the hashing encoder --------------------------------


def test_matching_quality(bench_env: dict[str, str]) -> None:
    """matching_quality scores every method on each track; the English titles find their
    occupation by keywords."""
    result = _json(
        _run(
            *("bench/matching_quality.py", "--encoder", "hashing", "--threads", "1"),
            *("--tracks", "desc_en", "desc_fr", "--json"),
            env=bench_env,
        ).stdout
    )
    assert set(result) == {"desc_en", "desc_fr"}
    methods = result["desc_en"]["int8"]
    assert set(methods) == {"lexical (BM25)", "dense hashing", "dense fused", "hybrid"}
    assert set(result["desc_en"]) == {"float32", "int8"}
    assert methods["lexical (BM25)"]["ndcg@10"] > 0


def test_search_quality(bench_env: dict[str, str]) -> None:
    """search_quality scores the experts search and the needs search on the embedded backend
    (search_speed fills the server backends); the English titles find their occupation by
    keywords."""
    common = ("--models", "hashing", "--timed", "2", "--json")
    experts = _json(_run("bench/search_quality.py", *common, env=bench_env).stdout)
    assert experts["models"]["hashing"]["dim"] == 256
    english = experts["quality"]["desc_en"]
    assert set(english) == {"lexical", "hybrid hashing", "dense hashing"}
    assert english["lexical"]["ndcg@10"] > 0, english
    needs = _json(_run("bench/search_quality.py", *common, "--needs", env=bench_env).stdout)
    assert {"needs_en", "needs_fr", "needs_es"} <= set(needs["quality"]), needs
    # The floor sweep: each track's two halves and the nonsense queries, at each floor; no floor
    # finds something for every nonsense query, a floor above every cosine finds none by meaning.
    swept = _json(
        _run("bench/search_quality.py", *common, "--floors", "-1", "1.01", env=bench_env).stdout
    )["floors"]["hashing"]
    assert {"desc_en tune", "desc_en held", "nonsense letters"} <= set(swept["-1.0"])
    assert swept["-1.0"]["nonsense letters"]["empty"] == 0.0
    assert swept["1.01"]["nonsense syllables"]["empty"] == 1.0
    # The same sweep of the needs' floor: each needs track's halves and nonsense queries.
    needs_swept = _json(
        _run(
            *("bench/search_quality.py", *common, "--needs", "--floors", "-1", "1.01"),
            env=bench_env,
        ).stdout
    )
    assert needs_swept["index"] == "needs"
    rows = needs_swept["floors"]["hashing"]
    assert {"needs_fr tune", "needs_fr held", "needs_fr nonsense letters"} <= set(rows["-1.0"])
    assert rows["-1.0"]["needs_es nonsense letters"]["empty"] == 0.0
    assert rows["1.01"]["needs_en nonsense syllables"]["empty"] == 1.0


def test_assignment(bench_env: dict[str, str]) -> None:
    """assignment ranks every need, solves the plan and the greedy one, and proposes teams."""
    result = _json(
        _run(
            *("bench/assignment.py", "--encoder", "hashing", "--experts", "12", "--needs", "8"),
            *("--k", "5", "--teams", "2", "--json"),
            env=bench_env,
        ).stdout
    )
    assignment = result["assignment"]
    assert assignment["experts"] == 12 and assignment["needs"] == 8
    assert assignment["plan"]["needs_covered"] > 0
    assert result["teams"]["needs"] == 2


def test_query_models(bench_env: dict[str, str]) -> None:
    """query_models loads a model in a fresh process and times new need titles."""
    result = _json(
        _run(
            "bench/query_models.py",
            "--models",
            "hashing",
            "--threads",
            "1",
            "--texts",
            "3",
            "--json",
            env=bench_env,
        ).stdout
    )
    (run,) = result["runs"]
    assert run["model"] == "hashing" and run["texts"] == 3


@pytest.mark.slow
def test_embedding_speed(bench_env: dict[str, str], tmp_path: Path) -> None:
    """embedding_speed embeds two profiles on the served path with the bundled encoder (the
    one tool here that has no way around the real models: ~7 s of CPU)."""
    result = _json(
        _run(
            *("bench/embedding_speed.py", "--profiles", "2", "--batches", "8"),
            *("--threads", "1", "--configs", "now", "--json"),
            env=bench_env,
        ).stdout
    )
    assert result["profiles"] == 2 and result["summary"]["now_cpu_ms_per_profile"] > 0, result
    assert "2 busy cores embed" in _speed_row("embedding", result, tmp_path / "results")


@pytest.mark.parametrize("tool", ["skill_threshold", "skill_merge_threshold"])
def test_skill_thresholds(tool: str, bench_split: Path) -> None:
    """The threshold tools build labelled pairs from the split and print a table."""
    done = _run(f"bench/{tool}.py", "--bench", str(bench_split), "--encoder", "hashing")
    assert re.search(r"^\d+ pairs, [1-9]\d* (positive|same skill)", done.stdout, re.M), done.stdout
    assert "threshold  precision  recall" in done.stdout


# --- Meilisearch-only tools ---------------------------------------------------------------------


@needs_meili
def test_meili_words_check(bench_env: dict[str, str]) -> None:
    """meili_words_check indexes the split and compares the two ways of correcting typos."""
    result = _json(_run("bench/meili_words_check.py", "--json", env=bench_env).stdout)
    assert result["profiles"] == 12
    assert {"desc_en", "desc_fr", "desc_es", "typo_en"} <= set(result["tracks"]), result
    for track in result["tracks"].values():
        assert track["pages"] == 4 and track["requests_mean"]["words"] > 0, track


@needs_meili
def test_meili_pool(tmp_path: Path) -> None:
    """meili_pool fills Meilisearch with a few hundred random experts and ranks a few needs."""
    try:
        result = _json(
            _run(
                *("bench/meili_pool.py", "--sizes", "300", "--needs", "3", "--pool", "50"),
                "--json",
                timeout=180,
            ).stdout
        )
    finally:  # the tool keeps its filled index for `--keep`; the test server should not
        meili = httpx.Client(
            base_url=MEILI_URL,
            headers={"Authorization": f"Bearer {os.environ.get('HOMEWARD_TEST_MEILI_KEY', '')}"},
        )
        for index in meili.get("/indexes", params={"limit": 1000}).json()["results"]:
            if index["uid"].startswith("bench_300_"):
                meili.delete(f"/indexes/{index['uid']}")
        meili.close()
    (size,) = result["sizes"]
    assert size["n_experts"] == 300
    assert "300 experts" in _speed_row("meili_pool", result, tmp_path / "results")


# --- speed_report ----------------------------------------------------------------------------


def test_speed_report_renders_the_kept_results() -> None:
    """`speed_report.py table` renders a row from every results file kept in bench/results."""
    table = _run("bench/speed_report.py", "table").stdout
    rows = [line for line in table.splitlines() if line.startswith("| `python bench/")]
    measured = [line for line in rows if not line.endswith("| not measured |")]
    assert len(measured) == len(list((BENCH / "results").glob("*.json"))), table


SPEED_ARGS_CHECK = textwrap.dedent(
    """
    import argparse, runpy, sys
    from pathlib import Path

    sys.path[:0] = [str(Path.cwd()), str(Path.cwd() / "bench")]
    report = runpy.run_path("bench/speed_report.py", run_name="speed_report")

    class Parsed(Exception):
        pass

    parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        parse(self, args, namespace)
        raise Parsed

    argparse.ArgumentParser.parse_args = parse_then_stop
    problems = []
    for bench in report["BENCHMARKS"]:
        sys.argv = [*bench.args, "--json"]
        try:
            runpy.run_path(bench.args[0], run_name="__main__")
        except Parsed:
            continue
        except SystemExit as error:
            problems.append(f"{bench.name}: {' '.join(sys.argv)} exited {error.code}")
        else:
            problems.append(f"{bench.name}: ran without parsing its arguments")
    print("\\n".join(problems))
    sys.exit(1 if problems else 0)
    """
)


def test_speed_report_arguments_are_the_tools() -> None:
    """Every command `speed_report.py run` would start is one its tool's parser accepts."""
    _run("-c", SPEED_ARGS_CHECK, timeout=120)
