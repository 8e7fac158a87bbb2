"""all-MiniLM-L6-v2 as a plain torch BERT: tokenizers + safetensors + torch, nothing else.

Loading it through sentence-transformers imported scipy, sklearn, sympy and transformers'
model code (~190 MB of a worker's memory) for one 6-layer BERT with mean pooling. This module
runs the same weights and the same recipe (BERT word-piece tokens truncated at 256, the last
hidden states mean-pooled over the real tokens) and matches sentence-transformers' vectors to
float rounding (`tests/matching/test_minilm.py`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import torch
from numpy.typing import NDArray
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn
from torch.nn import functional

from matching.threads import threads_for, torch_threads

# sentence-transformers' max_seq_length for this model (sentence_bert_config.json).
MAX_SEQ_LENGTH = 256
# What the torch encoders compute in: bfloat16 ran e5 and MiniLM 1.7-1.8x faster than float32
# with AVX512-BF16, their vectors at cosine >= 0.9998 of float32's (bench/embedding_speed.py).
# int8: the Linear layers dynamically quantised (int8 weights per output row, each batch's
# activations quantised on the fly, fbgemm's integer GEMMs), but the few a model keeps in
# float32: their inputs have outlier channels that one activation scale per batch flattens.
# Vectors at cosine >= 0.99 of float32's (tests/matching/test_int8.py).
Precision = Literal["float32", "bfloat16", "int8"]
_Module = TypeVar("_Module", bound=nn.Module)
# MiniLM's Linear layers left in float32 under int8: quantising any one of these alone cost
# >= 0.0014 of mean cosine on benchmark profiles (the feed-forward blocks of the first layers),
# the others together ~0.004.
INT8_KEEP_FLOAT = frozenset(
    [f"layers.{i}.intermediate" for i in range(5)] + [f"layers.{i}.output_dense" for i in range(4)]
)


def default_precision() -> Precision:
    """What this CPU computes the torch encoders in best (`choose_precision`)."""
    supported = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return choose_precision(native_bfloat16=supported is not None and bool(supported()))


def choose_precision(*, native_bfloat16: bool) -> Precision:
    """bfloat16 where oneDNN runs it natively (AVX512 with BF16 or AMX), float32 elsewhere: an
    emulated bfloat16 GEMM is slower than float32. int8 is never chosen by itself: 1.4x less
    CPU than float32, but the dev split's hybrid nDCG@10 fell by up to 0.014 (docs/matching.md);
    `HOMEWARD_EMBEDDING_PRECISION=int8` asks for it."""
    return "bfloat16" if native_bfloat16 else "float32"


def set_precision(
    model: _Module, precision: Precision, *, keep_float: Collection[str] = ()
) -> _Module:
    """Casts the model's weights to `precision` (float32 leaves them as loaded); under int8 the
    Linear layers named in `keep_float` stay float32."""
    if precision == "bfloat16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        spec = {
            name: per_channel_dynamic_qconfig
            for name, module in model.named_modules()
            if isinstance(module, nn.Linear) and name not in keep_float
        }
        # torch marks eager quantisation deprecated in favour of torchao (not installed); the
        # modules it builds still run fbgemm's int8 kernels.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantised: _Module = quantize_dynamic(model, spec, inplace=True)  # type: ignore[no-untyped-call]
        return quantised
    return model


# Checkpoint key parts -> this module's attribute names (one flat module per layer).
_RENAMES = (
    ("attention.self.query", "query"),
    ("attention.self.key", "key"),
    ("attention.self.value", "value"),
    ("attention.output.dense", "attention_dense"),
    ("attention.output.LayerNorm", "attention_norm"),
    ("intermediate.dense", "intermediate"),
    ("output.dense", "output_dense"),
    ("output.LayerNorm", "output_norm"),
    ("embeddings.word_embeddings", "words"),
    ("embeddings.position_embeddings", "positions"),
    ("embeddings.token_type_embeddings", "token_types"),
    ("embeddings.LayerNorm", "embedding_norm"),
    ("encoder.layer.", "layers."),
)


def _rename(key: str) -> str:
    for old, new in _RENAMES:
        key = key.replace(old, new)
    return key


class _Layer(nn.Module):
    """One BERT encoder layer: self-attention, then the feed-forward block, each post-norm."""

    def __init__(self, hidden: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attention_dense = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Linear(hidden, inner)
        self.output_dense = nn.Linear(inner, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Runs the layer; `bias` is the additive attention mask (0 or -inf-like per key)."""
        batch, tokens, hidden = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, tokens, self.heads, hidden // self.heads).transpose(1, 2)

        context = functional.scaled_dot_product_attention(
            split(self.query(x)), split(self.key(x)), split(self.value(x)), attn_mask=bias
        )
        context = context.transpose(1, 2).reshape(batch, tokens, hidden)
        x = self.attention_norm(x + self.attention_dense(context))
        inner = functional.gelu(self.intermediate(x))
        out: torch.Tensor = self.output_norm(x + self.output_dense(inner))
        return out


class _Bert(nn.Module):
    """BERT embeddings + encoder layers (no pooler) with mean pooling."""

    def __init__(self, config: dict[str, int | float]) -> None:
        super().__init__()
        hidden = int(config["hidden_size"])
        eps = float(config["layer_norm_eps"])
        self.words = nn.Embedding(int(config["vocab_size"]), hidden)
        self.positions = nn.Embedding(int(config["max_position_embeddings"]), hidden)
        self.token_types = nn.Embedding(int(config["type_vocab_size"]), hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=eps)
        heads = int(config["num_attention_heads"])
        inner = int(config["intermediate_size"])
        self.layers = nn.ModuleList(
            _Layer(hidden, heads, inner, eps) for _ in range(int(config["num_hidden_layers"]))
        )

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of the last hidden states over the real (unmasked) tokens."""
        return self.pool(self.words(ids), mask)

    def pool(self, words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """`forward` from the tokens' word vectors (a caller may keep its own word table); the
        layers run in the weights' dtype, the pooled rows come back as float32."""
        steps = torch.arange(words.shape[1])
        dtype = self.embedding_norm.weight.dtype
        x = words.to(dtype) + self.positions(steps)[None] + self.token_types.weight[0]
        x = self.embedding_norm(x)
        keep = mask.to(x.dtype)
        bias = (1.0 - keep[:, None, None, :]) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, bias)
        x, keep = x.float(), keep.float()
        summed = (x * keep[:, :, None]).sum(dim=1)
        pooled: torch.Tensor = summed / keep.sum(dim=1, keepdim=True).clamp(min=1e-9)
        return pooled


class MiniLMBackend:
    """all-MiniLM-L6-v2 (torch): texts in, L2-normalised float32 rows out.

    Tokenises every text of a call once, sorts them by token count and runs `batch` texts at a
    time padded only to the longest of those (attention buffers grow with batch x tokens^2).
    `precision` (default: `default_precision()`) is what the layers compute in.
    """

    dim = 384

    def __init__(
        self, path: Path, threads: int, batch: int = 8, precision: Precision | None = None
    ) -> None:
        torch.set_num_threads(threads)
        self.threads = threads
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self.model = _Bert(config)
        weights = load_file(str(path / "model.safetensors"))
        skip = ("pooler.", "embeddings.position_ids")
        wanted = {_rename(k): v for k, v in weights.items() if not k.startswith(skip)}
        self.model.load_state_dict(wanted, strict=True)
        del weights, wanted
        self.precision: Precision = precision or default_precision()
        self.model = set_precision(
            self.model.eval(), self.precision, keep_float=INT8_KEEP_FLOAT
        ).eval()
        self.batch = batch
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.no_padding()
        self.max_seq_length = MAX_SEQ_LENGTH

    @property
    def max_seq_length(self) -> int:
        """Tokens kept per text (with [CLS] and [SEP]); longer texts are truncated."""
        return self._max_seq_length

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self._max_seq_length = int(value)
        self._tokenizer.enable_truncation(max_length=self._max_seq_length)

    def embed(self, texts: list[str], *, is_query: bool) -> NDArray[np.float32]:
        """Embeds texts (MiniLM is symmetric: the task is ignored)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with torch.inference_mode(), torch_threads(threads_for(texts, self.threads)):
            for begin in range(0, len(order), self.batch):
                rows = order[begin : begin + self.batch]
                width = max(len(ids[i]) for i in rows)
                batch_ids = torch.zeros((len(rows), width), dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for slot, i in enumerate(rows):
                    batch_ids[slot, : len(ids[i])] = torch.tensor(ids[i])
                    mask[slot, : len(ids[i])] = 1
                pooled = self.model(batch_ids, mask).numpy()
                out[rows] = pooled
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)
