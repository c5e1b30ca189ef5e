"""movielens_dlrm: DLRM-small predicting "liked" (rating >= 4) on MovieLens.

census_dlrm's model, loss and preprocessing (``DlrmWorkload``) on MovieLens
100k ratings: user and movie ids, gender, occupation, zip region and
weekday through one shared embedding table, age, release year, rating day
and genre flags through the bottom MLP; the target metric is the
validation log-loss, as criteo1tb's. Only the data side and the model's
sizes differ from census_dlrm.
"""

from workloads.census_dlrm import workload as census
from workloads.movielens_dlrm import dataset


class MovielensDlrmWorkload(census.DlrmWorkload):
  """AlgoPerf's DLRM-small sizes (embed 128, bottom 512-256-128, top
  1024-1024-512-256-1; 2.4 M parameters) on 50,000 ratings.

  criteo1tb's own model sizes, not census_dlrm's smaller ones: the model
  overfits MovieLens within about two epochs (workloads/movielens_dlrm/
  README.md), so a step has to cost what criteo's does for the budget to
  reach tens of seconds.
  """

  name = 'movielens_dlrm'
  num_train_examples = dataset.SPLIT_SIZES['train']
  num_eval_train_examples = 5000  # Reported only: keeps evals cheap.
  num_validation_examples = dataset.SPLIT_SIZES['validation']
  num_test_examples = dataset.SPLIT_SIZES['test']
  eval_batch_size = 5000
  default_batch_size = 512
  dataset_builder = dataset.MovielensRatings
  num_numeric = len(dataset.NUMERIC_COLUMNS)
  num_categorical = len(dataset.CATEGORICAL_COLUMNS)
  # Mean and stddev over the train split of age, release year and rating
  # day (the real-data test checks them against the prepared data); the
  # genre flags stay 0 / 1: z-scoring a flag set on 1% of ratings would
  # feed the bottom MLP values near 10.
  train_mean = (32.9033, 1987.9183, 102.0947) + (0.0,) * len(dataset.GENRES)
  train_stddev = (11.5572, 14.2113, 61.9155) + (1.0,) * len(dataset.GENRES)

  vocab_size = dataset.VOCAB_SIZE
  embed_dim = 128
  bottom_dims = (512, 256, 128)
  top_dims = (1024, 1024, 512, 256, 1)


class MovielensDlrmEmbedInitWorkload(MovielensDlrmWorkload):
  """Embedding init stddev 1 (as AlgoPerf's criteo1tb_embed_init)."""

  name = 'movielens_dlrm_embed_init'
  embedding_init_multiplier = 1.0


class MovielensDlrmLayerNormWorkload(MovielensDlrmWorkload):
  """LayerNorm after every hidden layer (as AlgoPerf's criteo1tb_layernorm)."""

  name = 'movielens_dlrm_layernorm'
  use_layer_norm = True
