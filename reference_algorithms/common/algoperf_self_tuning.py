"""AlgoPerf's published self-tuning NAdamW point: its one home here.

From mlcommons/algorithmic-efficiency,
reference_algorithms/prize_qualification_baselines/self_tuning/
*_nadamw_full_budget.py (``HPARAMS``). Its label smoothing is 0 and it
clips no gradients: AlgoPerf's code reads both with ``hasattr()`` on a
dict, which is False, so they fall back to 0.0 and None.
"""

HPARAMS = {
  'dropout_rate': 0.1,
  'label_smoothing': 0.0,
  'learning_rate': 0.0017486387539278373,
  'one_minus_beta1': 0.06733926164,
  'beta2': 0.9955159689799007,
  'weight_decay': 0.08121616522670176,
  'warmup_factor': 0.02,
}
