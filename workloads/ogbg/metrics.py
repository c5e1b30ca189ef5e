"""ogbg's eval metrics as AlgoPerf computes them (ogbg/metrics.py), numpy.

AlgoPerf collects every eval batch's logits, labels and weights (padding
graphs included) and computes, on the host, OGB's mean average precision;
loss and accuracy are means over present labels.
"""

import numpy as np


def average_precision(labels, scores) -> float:
  """Binary average precision as scikit-learn's average_precision_score:
  sum over distinct score thresholds (descending) of
  (recall_k - recall_{k-1}) * precision_k."""
  order = np.argsort(-scores, kind='mergesort')
  scores, labels = scores[order], labels[order]
  # The last index of each run of equal scores: one threshold per value.
  last = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
  true_pos = np.cumsum(labels)[last]
  precision = true_pos / (last + 1)
  recall = true_pos / true_pos[-1]
  return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def mean_average_precision(logits, labels, weights) -> float:
  """Mean over tasks of the AP of sigmoid(logits) over present labels.

  A task counts when the collected rows (padding included, as in AlgoPerf)
  hold at least one 0 and one 1 label; NaN when no task counts.
  """
  # float32, as AlgoPerf's jax.nn.sigmoid: equal probabilities tie alike.
  with np.errstate(over='ignore'):  # exp overflow: probability 0.
    probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float32)))
  present = weights.astype(bool)
  values = []
  for task in range(labels.shape[1]):
    column = labels[:, task]
    if (column == 0).any() and (column == 1).any():
      rows = present[:, task]
      values.append(average_precision(column[rows], probs[rows, task]))
  return float(np.mean(values)) if values else float('nan')


def eval_results(logits, labels, weights, per_label_loss) -> dict:
  """AlgoPerf's EvalMetrics: accuracy, loss and mean average precision."""
  count = weights.sum()
  correct = ((logits > 0) == labels) * weights
  return {
    'accuracy': float(correct.sum() / count),
    'loss': float((per_label_loss * weights).sum() / count),
    'mean_average_precision': mean_average_precision(logits, labels,
                                                     weights),
  }
