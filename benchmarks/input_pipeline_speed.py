"""Input-pipeline speed of the AlgoPerf suite's data side, on synthetic data.

For each family: synthetic examples in the stored form (JPEGs of ImageNet's
mean size, 12 s utterances, Criteo rows, 640 x 368 k-space slices,
molecules, packed WMT rows) are written to a temporary array_record file
with the real writer, then ``RecordBatches`` (random reads by index, the
family's per-batch decoding and augmentation, the producer thread and
sharding onto the local devices) serves batches. Printed per family:
examples/s of wall time, examples per CPU-second of this process (= per
core busy), the load average before and after, and the CPU time beside the
wall time. No GPU is needed: JAX places batches on the CPU device here.

  .venv/bin/python benchmarks/input_pipeline_speed.py [--batches 8]
"""

import argparse
import io
import os
import pathlib
import resource
import tempfile
import time

import numpy as np

from algoperf.data import recordio
from algoperf.data import streaming


def _cpu_seconds() -> float:
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return usage.ru_utime + usage.ru_stime


def _jpeg(rng, width=500, height=375) -> np.ndarray:
  from PIL import Image

  # Smooth noise compresses like a photo (~110 KB at ImageNet's mean size).
  small = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
  image = Image.fromarray(small).resize((width, height), Image.BILINEAR)
  out = io.BytesIO()
  image.save(out, format='JPEG', quality=90)
  return np.frombuffer(out.getvalue(), np.uint8)


def _families():
  from workloads.criteo1tb import dataset as criteo
  from workloads.fastmri import dataset as fastmri
  from workloads.imagenet_resnet import dataset as imagenet
  from workloads.librispeech_conformer import dataset as librispeech
  from workloads.ogbg import dataset as ogbg
  from workloads.wmt import dataset as wmt

  def imagenet_example(rng):
    return {'image': _jpeg(rng), 'label': np.int32(rng.integers(1000))}

  def speech_example(rng):
    return {'audio': rng.normal(0, 3000, 16000 * 12).astype(np.int16),
            'targets': rng.integers(1, 1024, 120).astype(np.int32)}

  def criteo_example(rng):
    return {'inputs': rng.random(39).astype(np.float32),
            'targets': np.float32(rng.integers(2))}

  def fastmri_example(rng):
    kspace = (rng.normal(size=(640, 368)) + 1j * rng.normal(
      size=(640, 368))).astype(np.complex64)
    return {'kspace': kspace, 'target': rng.random((320, 320), np.float32),
            'volume_max': np.float32(1.0)}

  def ogbg_example(rng):
    n, m = int(rng.integers(10, 40)), int(rng.integers(10, 40))
    return {'node_feat': rng.random((n, 9), np.float32),
            'edge_feat': rng.random((m, 3), np.float32),
            'edge_index': rng.integers(0, n, (m, 2)).astype(np.int32),
            'labels': rng.random(128, np.float32)}

  def wmt_example(rng):
    row = {k: rng.integers(1, 32000, 256).astype(np.int32)
           for k in wmt.PACKED_KEYS}
    return row

  # family -> (stored features, example maker, decode, split, batch size
  # [, column shapes])
  return {
    'imagenet': (imagenet.DATASET.features, imagenet_example,
                 imagenet.decode_batch, 'train', 64),
    'librispeech': (librispeech.DATASET.features, speech_example,
                    librispeech.decode_batch, 'train', 32),
    'criteo1tb': (criteo.DATASET.features, criteo_example,
                  criteo.decode_batch, 'train', 65536, criteo.DATASET.columns),
    'fastmri': (fastmri.DATASET.features, fastmri_example,
                fastmri.decode_batch, 'train', 32),
    'ogbg': (ogbg.DATASET.features, ogbg_example,
             lambda r, s, rng: ogbg.decode_batch(r, s, rng, 1), 'train', 512),
    'wmt': (wmt.DATASET.split_features('train_packed'), wmt_example,
            wmt.decode_batch, 'train', 128),
  }


def measure(name, spec, directory: pathlib.Path, num_batches: int) -> dict:
  features, make, decode, split, batch_size, *columns = spec
  columns = columns[0] if columns else None
  rng = np.random.default_rng(0)
  path = directory / f'{name}.array_record'
  if columns:  # Memory-mapped columns (criteo1tb), as prepared.
    writer = recordio.ColumnWriter(directory, name, features, columns)
  else:
    writer = recordio.Writer(path, features)
  pool = [make(rng) for _ in range(min(batch_size, 256))]
  for i in range(batch_size * 2):  # Two batches' worth, reused by index.
    writer.write(pool[i % len(pool)])
  writer.close()
  if columns:
    reader = recordio.ColumnReader(directory, name, features, columns,
                                   writer.count)
  else:
    reader = recordio.Reader(path, features)
  batches = streaming.RecordBatches(
    reader, lambda records, r: decode(records, split, r), batch_size, seed=0)
  try:
    next(batches)  # Thread start, first reads: not measured.
    load_before = os.getloadavg()[0]
    cpu, wall = _cpu_seconds(), time.perf_counter()
    for _ in range(num_batches):
      batch = next(batches)
    import jax

    jax.block_until_ready(batch)
    wall = time.perf_counter() - wall
    cpu = _cpu_seconds() - cpu
  finally:
    batches.close()
  examples = num_batches * batch_size
  return {'family': name, 'batch': batch_size, 'examples/s': examples / wall,
          'per CPU-s': examples / cpu, 'wall s': wall, 'cpu s': cpu,
          'load before': load_before, 'load after': os.getloadavg()[0]}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--batches', type=int, default=8)
  parser.add_argument('--families', default='',
                      help='comma-separated subset (default: all)')
  args = parser.parse_args()
  families = _families()
  chosen = [f for f in args.families.split(',') if f] or list(families)
  print(f'cores: {os.cpu_count()}, batches per family: {args.batches}')
  header = ('family', 'batch', 'examples/s', 'per CPU-s', 'wall s', 'cpu s',
            'load before', 'load after')
  print(' | '.join(header))
  with tempfile.TemporaryDirectory() as tmp:
    for name in chosen:
      row = measure(name, families[name], pathlib.Path(tmp), args.batches)
      print(' | '.join(f'{row[k]:.1f}' if isinstance(row[k], float)
                       else str(row[k]) for k in header), flush=True)


if __name__ == '__main__':
  main()
