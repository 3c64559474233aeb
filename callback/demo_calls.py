"""Demo step: call attempts with scripts, answers and outcomes (verification scripts issue)."""


def seed(users) -> None:
    pass
