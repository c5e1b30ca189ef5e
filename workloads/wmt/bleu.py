"""Corpus BLEU as AlgoPerf computes it (its ``wmt/bleu.py``: sacrebleu
1.3.1's defaults): mteval-v13a tokenisation of detokenised text, n-grams up
to 4 clipped by one reference, 'exp' smoothing (a zero n-gram match count
contributes 1 / 2^k of that order's total, k counting zero orders),
brevity penalty from corpus lengths; a score in 0..100. No dependency.
"""

import collections
import math
import re

MAX_ORDER = 4

# mteval-v13a's language-independent replacements, in order.
_UNESCAPE = (('<skipped>', ''), ('-\n', ''), ('\n', ' '), ('&quot;', '"'),
             ('&amp;', '&'), ('&lt;', '<'), ('&gt;', '>'))
# Punctuation and symbols that become tokens of their own: ASCII ranges
# { to ~, [ to `, space to &, ( to +, : to @, and /.
_SYMBOLS = re.compile(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])')
_PERIOD_COMMA_AFTER_NON_DIGIT = re.compile(r'([^0-9])([\.,])')
_PERIOD_COMMA_BEFORE_NON_DIGIT = re.compile(r'([\.,])([^0-9])')
_DASH_AFTER_DIGIT = re.compile(r'([0-9])(-)')


def tokenize_13a(line: str) -> list[str]:
  """WMT's mteval-v13a tokenisation; returns the tokens."""
  for old, new in _UNESCAPE:
    line = line.replace(old, new)
  line = f' {line} '
  line = _SYMBOLS.sub(r' \1 ', line)
  line = _PERIOD_COMMA_AFTER_NON_DIGIT.sub(r'\1 \2 ', line)
  line = _PERIOD_COMMA_BEFORE_NON_DIGIT.sub(r' \1 \2', line)
  line = _DASH_AFTER_DIGIT.sub(r'\1 \2 ', line)
  return line.split()


def _ngrams(tokens: list[str]) -> collections.Counter:
  return collections.Counter(
    tuple(tokens[i:i + n]) for n in range(1, MAX_ORDER + 1)
    for i in range(len(tokens) - n + 1))


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
  """BLEU (0..100) of ``hypotheses`` against one reference each."""
  if len(hypotheses) != len(references):
    raise ValueError(f'BLEU needs one reference per hypothesis: got '
                     f'{len(hypotheses)} hypotheses, {len(references)} '
                     'references.')
  matches = [0] * MAX_ORDER
  totals = [0] * MAX_ORDER
  hyp_len = ref_len = 0
  for hypothesis, reference in zip(hypotheses, references):
    hyp = tokenize_13a(hypothesis.rstrip())
    ref = tokenize_13a(reference.rstrip())
    hyp_len += len(hyp)
    ref_len += len(ref)
    ref_counts = _ngrams(ref)
    for gram, count in _ngrams(hyp).items():
      matches[len(gram) - 1] += min(count, ref_counts[gram])
      totals[len(gram) - 1] += count
  return bleu_from_counts(matches, totals, hyp_len, ref_len)


def bleu_from_counts(matches, totals, hyp_len: int, ref_len: int) -> float:
  """BLEU from n-gram match/total counts and corpus lengths ('exp')."""
  log_precisions = []
  halvings = 0
  for order in range(MAX_ORDER):
    if totals[order] == 0:  # No n-grams of this order or higher: stop;
      break  # the missing orders count as precision 0 below.
    if matches[order]:
      precision = 100.0 * matches[order] / totals[order]
    else:
      halvings += 1
      precision = 100.0 / (2**halvings * totals[order])
    log_precisions.append(math.log(precision))
  # As sacrebleu 1.3.1: an order with no n-grams is log(0), floored.
  log_precisions += [-9999999999] * (MAX_ORDER - len(log_precisions))
  if hyp_len >= ref_len:
    brevity = 1.0
  else:
    brevity = math.exp(1 - ref_len / hyp_len) if hyp_len else 0.0
  return brevity * math.exp(sum(log_precisions) / MAX_ORDER)
