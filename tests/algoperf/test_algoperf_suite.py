"""The AlgoPerf suite's facts (v0.6 current, v0.5 kept) and its listing.

The numbers are AlgoPerf's at mlcommons/algorithmic-efficiency commit
2c90454 (its workloads' properties); v0.5's budgets and held-out draw are
the published v0.5 ones, which scoring of published logs depends on
(tests/scoring/test_conformance.py reproduces their scores).
"""

import pathlib
import subprocess
import sys
import textwrap

import pytest

from algoperf import registry
from algoperf.errors import WorkloadError

REPO = pathlib.Path(__file__).resolve().parents[2]
FAMILIES = ('criteo1tb', 'fastmri', 'imagenet_resnet', 'imagenet_vit',
            'librispeech_conformer', 'librispeech_deepspeech', 'ogbg', 'wmt')


def test_every_family_and_variant_is_runnable_with_algoperf_facts():
  suite = registry.suite('algoperf')
  assert suite.benchmark_version == '0.6'
  assert suite.eval_schedule == 'time'
  assert suite.base_workloads == FAMILIES
  names = registry.names('algoperf')
  assert len(names) == 32  # 8 bases x (1 + 3 variants).
  for name in names:
    facts = registry.facts(name)
    family = facts.family
    assert facts.import_path.startswith(f'workloads.{family}.workload:')
    assert facts.test_target_value is not None
    assert facts.eval_every_steps is None  # AlgoPerf's clock schedule.
  assert len(suite.variants('wmt')) == 3


@pytest.mark.parametrize('name', registry.names('algoperf'))
def test_every_import_string_names_the_workload_class_of_that_name(name):
  # The suite file and the workload modules are written separately; a
  # misspelt class name would only surface when someone runs it.
  workload_class = registry.get_workload_class(name)
  assert workload_class.name == name


@pytest.mark.parametrize('name, version, budget, step_hint', [
  ('imagenet_resnet', '0.6', 66_159, 195_999),
  ('imagenet_resnet', '0.5', 63_008, 195_999),
  ('librispeech_deepspeech_tanh', '0.6', 44_405, 38_400),
  ('librispeech_deepspeech_tanh', '0.5', 55_506, 38_400),
  ('fastmri_tanh', '0.6', 4_430, 18_094),
  ('fastmri_tanh', '0.5', 8_859, 18_094),
  ('ogbg', '0.6', 12_011, 52_000),
  ('ogbg', '0.5', 18_477, 52_000),
])
def test_budgets_and_step_hints_per_version(name, version, budget,
                                            step_hint):
  facts = registry.suite('algoperf').version(version).workloads[name]
  assert facts.max_allowed_runtime_sec == budget
  assert facts.step_hint == step_hint


def test_the_v05_draw_and_targets_are_unchanged():
  old = registry.suite('algoperf').version('0.5')
  assert old.held_out_workloads == (
    'criteo1tb_embed_init', 'fastmri_tanh', 'imagenet_resnet_large_bn_init',
    'librispeech_conformer_layernorm', 'ogbg_model_size', 'wmt_glu_tanh')
  assert old.workloads['wmt'].validation_target_value == 30.8491
  assert old.workloads['imagenet_vit_map'].validation_target_value == 0.77113
  with pytest.raises(WorkloadError, match='no held-out variant'):
    registry.suite('algoperf').held_out_variant('wmt')  # v0.6: none.


def test_listing_the_algoperf_suite_imports_no_jax_nor_workloads():
  code = textwrap.dedent('''
    import argparse, sys
    from algoperf.commands import workloads
    parser = argparse.ArgumentParser()
    workloads.add_arguments(parser)
    code = workloads.run(parser.parse_args(['--suite', 'algoperf']))
    heavy = sorted(m for m in sys.modules
                   if m.split('.')[0] in ('jax', 'flax', 'workloads'))
    print('HEAVY', heavy, 'CODE', code)
  ''')
  done = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                        capture_output=True, text=True, timeout=120,
                        check=False, env={'COLUMNS': '200',
                                          'PATH': '/usr/bin:/bin'})
  assert done.returncode == 0, done.stderr
  assert 'HEAVY [] CODE 0' in done.stdout, done.stdout + done.stderr
  for name in ('librispeech_deepspeech_norm_and_spec_aug', 'wmt_glu_tanh',
               'imagenet_vit_map', 'criteo1tb_embed_init'):
    assert name in done.stdout
