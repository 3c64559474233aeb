"""Demo step: queues, teams, calling hours and callback tasks in every state (queue issue)."""


def seed(users) -> None:
    pass
