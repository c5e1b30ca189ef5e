"""The exit status of every `algoperf` verb: one table (README, design §11).

  0    finished: every trial ended with a result (target reached, budget
       spent, training complete, --max-steps), or the verb did its job
  1    user or input error: bad files, missing data, a held lock,
       unreadable logs or packages
  2    usage: a flag value or name that cannot mean anything
  3    the submission failed: it raised, diverged, broke the API, exited
       or was killed; or `validate` found problems
  4    timeout: a submission call did not return within the budget plus
       the grace
  5    infrastructure: disk full, read-only or unusable directory, I/O
       error, an internal error of the harness
  130  interrupted (Ctrl-C, SIGTERM): rerunning the same command resumes

With several trials, the verb exits with the highest of their codes.
"""

OK = 0
INPUT = 1
USAGE = 2
SUBMISSION = 3
TIMEOUT = 4
INFRASTRUCTURE = 5
INTERRUPTED = 130
