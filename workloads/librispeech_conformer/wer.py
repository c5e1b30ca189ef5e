"""AlgoPerf's word error rate for LibriSpeech, on the host.

Greedy CTC hypotheses (``workloads.espeak_conformer.ctc.greedy_decode``:
argmax per frame, repeats merged, blanks and padded frames dropped) and the
references are detokenised to text by the data side's SentencePiece model,
split on whitespace, and compared word by word (Levenshtein distance:
substitutions, insertions and deletions cost 1). The split's WER is the
sum of the distances over the sum of the reference words (AlgoPerf's
``compute_wer``: not a mean of per-utterance rates). Whitespace runs in a
reference count as one separator, and an empty reference counts one word,
as there.
"""

from collections.abc import Callable

import numpy as np

BLANK_ID = 0


def word_edit_distance(hypothesis: list[str], reference: list[str]) -> int:
  """Levenshtein distance between two word lists (one row at a time)."""
  previous = list(range(len(reference) + 1))
  for i, word in enumerate(hypothesis, start=1):
    current = [i]
    for j, ref_word in enumerate(reference, start=1):
      current.append(min(previous[j] + 1, current[j - 1] + 1,
                         previous[j - 1] + (word != ref_word)))
    previous = current
  return previous[-1]


def ids_as_words(ids: np.ndarray) -> str:
  """A stand-in detokeniser: each token id is one word (synthetic data)."""
  return ' '.join(str(int(i)) for i in ids)


def word_errors(hypotheses_BT: np.ndarray, targets_BL: np.ndarray,
                target_paddings_BL: np.ndarray, valid_B: np.ndarray,
                detokenize: Callable[[np.ndarray], str]) -> tuple[float, float]:
  """(word errors, reference words) summed over the valid rows.

  ``hypotheses_BT``: greedy decoding's ids at their frames, BLANK_ID where
  nothing is emitted; ``targets_BL`` with ``target_paddings_BL`` (1.0 =
  padding) as in the batch.
  """
  errors = words = 0.0
  for row in np.flatnonzero(valid_B):
    hypothesis = hypotheses_BT[row]
    hypothesis = hypothesis[hypothesis != BLANK_ID].astype(np.int32)
    reference = targets_BL[row][target_paddings_BL[row] == 0]
    reference_text = ' '.join(detokenize(reference.astype(np.int32)).split())
    errors += word_edit_distance(detokenize(hypothesis).split(),
                                 reference_text.split())
    words += len(reference_text.split(' '))
  return errors, words
