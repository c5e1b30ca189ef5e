"""Write a markdown + HTML leaderboard for experiment directories."""

from scoring import cli_score


def add_arguments(parser) -> None:
  cli_score.add_common_arguments(parser)


def run(args) -> int:
  raise NotImplementedError
