"""The split launcher's broker users (tools/split.py), without a broker: how they are
named, and that only a throwaway deployment's own users are ever deleted. The split suite
(tests/test_split.py) proves the same against RabbitMQ."""

import pytest

from tools import split
from tools.split import SplitConfig, broker_user_name, broker_users, delete_broker_users


@pytest.fixture
def rabbitmqctl_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every rabbitmqctl command the launcher runs, recorded instead of run."""
    calls: list[tuple[str, ...]] = []

    def record(*args: str, timeout: float = 60) -> str:
        calls.append(args)
        return ""

    monkeypatch.setattr(split, "rabbitmqctl", record)
    monkeypatch.setattr(split, "ensure_broker_users", lambda config: calls.append(("ensure",)))
    return calls


def test_users_are_named_from_the_queue_prefix():
    assert broker_user_name("", "accounts") == "eventbus-accounts"
    assert broker_user_name("", "orders") == "eventbus-orders"
    assert broker_user_name("t3f9a-", "accounts") == "t3f9a-eventbus-accounts"
    assert broker_user_name("t3f9a-", "orders") == "t3f9a-eventbus-orders"


def test_make_splits_deployment_keeps_the_default_names():
    config = SplitConfig()
    assert config.broker_user("accounts")[0] == "eventbus-accounts"
    assert config.broker_user("orders")[0] == "eventbus-orders"


def test_a_service_connects_as_its_deployments_user():
    config = SplitConfig(queue_prefix="t3f9a-", broker="amqp://guest:guest@rabbit:5672//")
    _, password = config.broker_user("orders")
    assert config.service_broker("orders") == (
        f"amqp://t3f9a-eventbus-orders:{password}@rabbit:5672//"
    )


def test_a_throwaway_deployment_needs_a_queue_prefix_of_its_own():
    with pytest.raises(ValueError, match="needs a queue_prefix of its own"):
        SplitConfig(throwaway=True)
    assert SplitConfig(throwaway=True, broker_users=False).queue_prefix == ""


def test_a_throwaway_deployments_users_are_deleted(rabbitmqctl_calls):
    delete_broker_users(SplitConfig(queue_prefix="t3f9a-", throwaway=True))
    assert rabbitmqctl_calls == [
        ("delete_user", "t3f9a-eventbus-accounts"),
        ("delete_user", "t3f9a-eventbus-orders"),
    ]


def test_a_persons_deployments_users_are_never_deleted(rabbitmqctl_calls):
    with pytest.raises(ValueError, match="make split\\) keeps them"):
        delete_broker_users(SplitConfig())
    with pytest.raises(ValueError, match="make split\\) keeps them"):
        delete_broker_users(SplitConfig(queue_prefix="t3f9a-"))
    assert rabbitmqctl_calls == []


def test_the_default_users_and_the_brokers_own_are_never_deleted(rabbitmqctl_calls):
    emptied = SplitConfig(queue_prefix="t3f9a-", throwaway=True)
    emptied.queue_prefix = ""  # changed after the check at construction
    with pytest.raises(ValueError, match="'eventbus-accounts', 'eventbus-orders'"):
        delete_broker_users(emptied)
    own_user_in_url = SplitConfig(
        queue_prefix="t3f9a-",
        throwaway=True,
        broker="amqp://t3f9a-eventbus-orders:secret@127.0.0.1:5672//",
    )
    with pytest.raises(ValueError, match="'t3f9a-eventbus-orders'"):
        delete_broker_users(own_user_in_url)
    assert rabbitmqctl_calls == []


def test_without_users_of_their_own_nothing_is_made_or_deleted(rabbitmqctl_calls):
    with broker_users(SplitConfig(queue_prefix="t3f9a-", throwaway=True, broker_users=False)):
        pass
    delete_broker_users(SplitConfig(queue_prefix="t3f9a-", throwaway=True, broker_users=False))
    assert rabbitmqctl_calls == []


def test_a_throwaway_deployments_users_go_when_it_stops_even_on_error(rabbitmqctl_calls):
    config = SplitConfig(queue_prefix="t3f9a-", throwaway=True)
    with pytest.raises(RuntimeError, match="migrate failed"), broker_users(config):
        raise RuntimeError("migrate failed")
    assert rabbitmqctl_calls == [
        ("ensure",),
        ("delete_user", "t3f9a-eventbus-accounts"),
        ("delete_user", "t3f9a-eventbus-orders"),
    ]


def test_a_persons_deployment_keeps_its_users_when_it_stops(rabbitmqctl_calls):
    with broker_users(SplitConfig()):
        pass
    assert rabbitmqctl_calls == [("ensure",)]
