"""The offline default embedder: character n-gram hashing with a fixed signed random projection.

No PyTorch, no downloaded weights, any language. Each character n-gram (3-4 grams for Latin script,
1-2 grams for CJK) is hashed with a fixed 64-bit mix (splitmix64); the hash picks `PROJECTIONS` output
dimensions and signs, which is a sparse random projection of the (huge) n-gram count space that is
deterministic by construction (nothing to persist, identical on every machine and numpy version).
N-grams are weighted by order (longer Latin n-grams and CJK uni/bigrams carry the signal; Latin
uni/bigrams are dropped) and rows are L2-normalised, so cosine similarity approximates weighted character
n-gram overlap. Fully vectorised over a batch (no per-text Python work beyond one string join).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EMBED_VERSION = "hash-ngram-v2"
DIM = 256
PROJECTIONS = 4
_MULT = np.uint64(0x100000001B3)
_SEP = 0
_CJK_START = 0x2E80
# weight of an n-gram by its order, for Latin-script and CJK starting characters
_WEIGHTS_LATIN = {1: 0.0, 2: 0.0, 3: 1.0, 4: 1.2}
_WEIGHTS_CJK = {1: 1.0, 2: 1.3, 3: 0.0, 4: 0.0}


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _codepoints(texts: Sequence[str]) -> np.ndarray:
    """All texts as one uint32 code-point array: SEP text SEP text ... SEP (spaces collapsed, lower-cased)."""
    joined = "\x00" + "\x00".join(" " + " ".join((t or "").lower().split()) + " " for t in texts) + "\x00"
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


def embed_array(texts: Sequence[str], dim: int = DIM) -> np.ndarray:
    """(len(texts), dim) float32, rows L2-normalised (all-zero for empty text)."""
    n_docs = len(texts)
    out = np.zeros((n_docs, dim), dtype=np.float32)
    if n_docs == 0:
        return out
    if dim & (dim - 1) or dim > 256:
        raise ValueError("dim must be a power of two <= 256")
    codes = _codepoints(texts)
    doc = np.cumsum(codes == _SEP) - 1  # doc index of every position (separators belong to the next doc)
    is_cjk = codes >= _CJK_START
    c64 = codes.astype(np.uint64)
    keys, doc_parts, weight_parts = [], [], []
    h = np.zeros(len(codes), dtype=np.uint64)
    has_sep = np.zeros(len(codes), dtype=bool)
    for n in (1, 2, 3, 4):
        m = len(codes) - n + 1
        h = h[:m] * _MULT + c64[n - 1 : n - 1 + m]
        has_sep = has_sep[:m] | (codes[n - 1 : n - 1 + m] == _SEP)
        w_start = np.where(is_cjk[:m], _WEIGHTS_CJK[n], _WEIGHTS_LATIN[n]).astype(np.float32)
        keep = (~has_sep) & (w_start > 0)
        if not keep.any():
            continue
        hashed = _splitmix64(h[keep] ^ np.uint64(n * 0x9E37))
        keys.append(hashed)
        doc_parts.append(doc[:m][keep])
        weight_parts.append(w_start[keep])
    if not keys:
        return out
    hashes = np.concatenate(keys)
    docs = np.concatenate(doc_parts).astype(np.int64)
    w = np.concatenate(weight_parts)
    bits = int(dim).bit_length() - 1
    mask = np.uint64(dim - 1)
    for k in range(PROJECTIONS):
        shift = np.uint64(16 * k)
        col = ((hashes >> shift) & mask).astype(np.int64)
        sign = np.where((hashes >> (shift + np.uint64(bits))) & np.uint64(1), 1.0, -1.0).astype(np.float32)
        out += np.bincount(docs * dim + col, weights=w * sign, minlength=n_docs * dim).reshape(n_docs, dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out
