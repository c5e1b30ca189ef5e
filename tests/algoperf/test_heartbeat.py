"""The heartbeat's live estimate of submission time (the supervisor's
budget + grace kill reads it)."""

import time

from algoperf import clock
from algoperf import heartbeat


def _beat(tmp_path):
  beat = heartbeat.Heartbeat(tmp_path / 'beat', create=True)
  beat.set_budget(6.0)
  totals = dict.fromkeys(clock.ACCUMULATORS, 0.0)
  beat.on_charge(None, totals)  # The clock starts.
  return beat, totals


def test_a_submission_call_counts_until_it_is_charged(tmp_path):
  beat, totals = _beat(tmp_path)
  beat.enter_call('update_params', step=3)
  state = beat.read()
  later = state['last_charge'] + 2.0
  assert heartbeat.submission_time_now(state, later) == 2.0
  totals[clock.SUBMISSION] = 1.5
  beat.on_charge(clock.SUBMISSION, totals)  # The call's device work, done.
  state = beat.read()
  # Still the submission's: the next segment is its too (the next call).
  assert heartbeat.submission_time_now(state, state['last_charge'] + 1.0) \
    == 2.5
  beat.close()


def test_a_harness_charge_stops_the_estimate(tmp_path):
  """After the loop's last charge (logging) the trial writes its files and
  exits: no submission work is in flight, so no estimate grows toward the
  kill, however long that takes."""
  beat, totals = _beat(tmp_path)
  beat.enter_call('update_params', step=9)
  totals[clock.SUBMISSION] = 6.0
  beat.on_charge(clock.SUBMISSION, totals)
  beat.on_charge(clock.LOGGING, totals)
  state = beat.read()
  assert heartbeat.submission_time_now(state, time.monotonic() + 60.0) is None
  # The next submission call counts again, from the last charge.
  beat.enter_call('data_selection', step=10)
  state = beat.read()
  assert heartbeat.submission_time_now(state, state['last_charge'] + 0.5) \
    == 6.5
  beat.close()


# Another process publishing calls as fast as it can, as a trial does. It
# publishes its first call before it says 'ready': the record before that
# (idle, since time 0) is whole, and not what the test is about.
_WRITER = """
import sys, time
from algoperf import heartbeat
beat = heartbeat.Heartbeat(sys.argv[1])
end = time.monotonic() + float(sys.argv[2])
step = 0
beat.enter_call('update_params', step)  # Published before 'ready'.
print('ready', flush=True)
while time.monotonic() < end:
  step += 1
  beat.enter_call('update_params', step)
"""


def test_a_reader_never_sees_a_record_half_written(tmp_path):
  """The supervisor reads while the trial writes: every reading must be a
  whole record (struct.pack_into zero-filled it first, so 7% of readings
  saw budget 0 and a call running since time 0, and a trial was killed)."""
  import subprocess
  import sys

  beat, _ = _beat(tmp_path)
  writer = subprocess.Popen(
    [sys.executable, '-c', _WRITER, str(beat.path), '1.5'],
    stdout=subprocess.PIPE, text=True)
  assert writer.stdout.readline().strip() == 'ready'
  readings = []
  while writer.poll() is None:
    readings.append(beat.read())
  assert writer.returncode == 0
  assert len(readings) > 1000
  torn = [r for r in readings if r['budget'] != 6.0
          or r['phase'] != heartbeat.SUBMISSION or r['phase_start'] == 0.0]
  assert torn == []
  beat.close()
