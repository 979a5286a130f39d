"""The prod overlay's services are wired to the operators' stores as those operators name
things: Services, Secrets and CAs derived here from the custom resources, so renaming a
cluster without rewiring its clients fails. Also Kafka's replication and ACLs, Cassandra's
and PostgreSQL's replication, and real Firestore through Workload Identity."""

from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.rights.source import COMPONENTS, SERVICES

Manifest = dict[str, Any]
Objects = dict[str, dict[str, Manifest]]
# A Kafka, CloudNativePG or Cassandra credential in a pod: (Secret, key).
SecretRef = tuple[str, str]

# The services with a KafkaUser: every service of the source that uses Kafka (topic setup
# is Strimzi's Topic Operator in prod; tests and bench are local only).
KAFKA_USERS = sorted(name for name in SERVICES if COMPONENTS[name].kafka)


def only(objects: dict[str, Manifest]) -> Manifest:
    assert len(objects) == 1, sorted(objects)
    return next(iter(objects.values()))


def workloads(prod: Objects, service: str) -> list[Manifest]:
    """The service's Deployment and the migration Job that shares its name label, if any."""
    jobs = [
        job
        for job in prod["Job"].values()
        if job["metadata"]["labels"]["app.kubernetes.io/name"] == service
    ]
    return [prod["Deployment"][service], *jobs]


def settings(prod: Objects, workload: Manifest) -> dict[str, str]:
    """The container's environment from its ConfigMap and its own plain values (secret
    values are not read here), as Kubernetes resolves it: `env` wins over `envFrom`."""
    container = workload["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        env.update(prod["ConfigMap"][source["configMapRef"]["name"]]["data"])
    env.update(
        {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}
    )
    return env


def secret_env(workload: Manifest) -> dict[str, SecretRef]:
    container = workload["spec"]["template"]["spec"]["containers"][0]
    return {
        item["name"]: (
            item["valueFrom"]["secretKeyRef"]["name"],
            item["valueFrom"]["secretKeyRef"]["key"],
        )
        for item in container.get("env", [])
        if "secretKeyRef" in item.get("valueFrom", {})
    }


def mounted_file(workload: Manifest, path: str) -> SecretRef:
    """The Secret and key behind the file at `path` in the container."""
    spec = workload["spec"]["template"]["spec"]
    for mount in spec["containers"][0]["volumeMounts"]:
        directory = mount["mountPath"].rstrip("/") + "/"
        if path.startswith(directory):
            volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
            item = next(i for i in volume["secret"]["items"] if i["path"] == path[len(directory) :])
            return volume["secret"]["secretName"], item["key"]
    raise AssertionError(f"nothing mounted at {path}")


def operator_secrets(prod: Objects) -> set[str]:
    """The Secrets the operators create from the custom resources of this overlay."""
    made = {f"{k}-cluster-ca-cert" for k in prod["Kafka"]} | set(prod["KafkaUser"])
    made |= {f"{c}-{suffix}" for c in prod["Cluster"] for suffix in ("app", "ca")}
    for dc in prod["CassandraDatacenter"].values():
        made.add(dc["spec"].get("superuserSecretName") or f"{dc['spec']['clusterName']}-superuser")
    return made


def test_every_secret_a_pod_reads_exists_or_is_made_by_an_operator(prod: Objects) -> None:
    known = set(prod["Secret"]) | operator_secrets(prod)
    for kind in ("Deployment", "Job"):
        for workload in prod[kind].values():
            spec = workload["spec"]["template"]["spec"]
            used = {name for name, _ in secret_env(workload).values()}
            used |= {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
            assert used <= known, (workload["metadata"]["name"], used - known)


def test_kafka_runs_three_controllers_and_three_brokers_replicating_everything_thrice(
    prod: Objects,
) -> None:
    kafka = only(prod["Kafka"])
    pools = prod["KafkaNodePool"]
    roles = {
        name: (pool["spec"]["roles"], pool["spec"]["replicas"]) for name, pool in pools.items()
    }
    assert sorted(roles.values()) == [(["broker"], 3), (["controller"], 3)]
    for pool in pools.values():
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert config["auto.create.topics.enable"] is False
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    # Every client listener encrypts and authenticates.
    for listener in kafka["spec"]["kafka"]["listeners"]:
        assert listener["tls"] is True, listener["name"]
        assert listener["authentication"]["type"] == "scram-sha-512", listener["name"]


def test_topics_are_the_ones_the_services_use(prod: Objects) -> None:
    kafka = only(prod["Kafka"])["metadata"]["name"]
    chat = settings(prod, prod["Deployment"]["chat-worker"])
    aggregator = settings(prod, prod["Deployment"]["aggregator"])
    used = {
        chat["KAFKA_TOPIC"],
        chat["KAFKA_DLQ_TOPIC"],
        chat["USER_EVENTS_DLQ_TOPIC"],
        chat["MODERATION_TOPIC"],
        aggregator["KAFKA_TOPIC"],
        aggregator["KAFKA_DLQ_TOPIC"],
    }
    # user-events: DESIGN.md's `user.deleted` events (key user_id).
    assert set(prod["KafkaTopic"]) == used | {"user-events"}
    for name, topic in prod["KafkaTopic"].items():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka, name
        assert topic["spec"]["replicas"] == 3, name
        assert topic["spec"]["config"]["min.insync.replicas"] == 2, name


@pytest.mark.parametrize("service", KAFKA_USERS)
def test_each_service_is_a_kafka_user_allowed_exactly_what_the_source_grants(
    prod: Objects, service: str
) -> None:
    user = prod["KafkaUser"][service]
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    assert (
        user["metadata"]["labels"]["strimzi.io/cluster"] == only(prod["Kafka"])["metadata"]["name"]
    )
    rights = COMPONENTS[service].kafka
    assert rights is not None
    granted = set()
    for acl in user["spec"]["authorization"]["acls"]:
        assert acl.get("type", "allow") == "allow" and acl["resource"]["patternType"] == "literal"
        granted |= {
            (acl["resource"]["type"], acl["resource"]["name"], op) for op in acl["operations"]
        }
    assert granted == rights.acls()
    assert set(prod["KafkaUser"]) == set(KAFKA_USERS)


@pytest.mark.parametrize("service", KAFKA_USERS)
def test_the_sources_topics_and_groups_are_the_ones_the_service_is_configured_with(
    prod: Objects, service: str
) -> None:
    rights = COMPONENTS[service].kafka
    assert rights is not None
    configured = set(settings(prod, prod["Deployment"][service]).values())
    named = rights.read | rights.write | rights.groups
    assert named <= configured, named - configured


@pytest.mark.parametrize("service", KAFKA_USERS)
def test_services_reach_kafka_over_tls_as_their_user(prod: Objects, service: str) -> None:
    kafka = only(prod["Kafka"])
    listener = only({lst["name"]: lst for lst in kafka["spec"]["kafka"]["listeners"]})
    name = kafka["metadata"]["name"]
    for workload in workloads(prod, service):
        env = settings(prod, workload)
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == f"{name}-kafka-bootstrap:{listener['port']}"
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["KAFKA_SASL_USERNAME"] == service
        assert secret_env(workload)["KAFKA_SASL_PASSWORD"] == (service, "password")
        ca = mounted_file(workload, env["KAFKA_SSL_CA_FILE"])
        assert ca == (f"{name}-cluster-ca-cert", "ca.crt")


@pytest.mark.parametrize("service", ["chat-api", "chat-worker"])
def test_cassandra_runs_three_nodes_in_three_zones_and_chat_service_uses_local_quorum(
    service: str,
    prod: Objects,
) -> None:
    dc = only(prod["CassandraDatacenter"])
    spec = dc["spec"]
    assert spec["size"] == 3
    zones = {rack["nodeAffinityLabels"]["topology.kubernetes.io/zone"] for rack in spec["racks"]}
    assert len(zones) == len(spec["racks"]) == 3
    superuser = spec.get("superuserSecretName") or f"{spec['clusterName']}-superuser"
    for workload in workloads(prod, service):
        env = settings(prod, workload)
        assert env["CASSANDRA_HOSTS"] == f"{spec['clusterName']}-{dc['metadata']['name']}-service"
        # The migration Job creates the keyspace: NetworkTopologyStrategy, 3 in this DC.
        assert env["CASSANDRA_LOCAL_DC"] == dc["metadata"]["name"]
        assert env["CASSANDRA_REPLICATION_FACTOR"] == "3"
        assert env["CASSANDRA_CONSISTENCY_LEVEL"] == "LOCAL_QUORUM"
        credentials = secret_env(workload)
        assert credentials["CASSANDRA_USERNAME"] == (superuser, "username")
        assert credentials["CASSANDRA_PASSWORD"] == (superuser, "password")


def test_postgres_runs_three_instances_with_synchronous_replication(prod: Objects) -> None:
    cluster = only(prod["Cluster"])
    spec, name = cluster["spec"], cluster["metadata"]["name"]
    assert spec["instances"] == 3
    synchronous = spec["postgresql"]["synchronous"]
    assert synchronous["number"] >= 1 and synchronous["dataDurability"] == "required"
    initdb = spec["bootstrap"]["initdb"]
    for workload in workloads(prod, "auth-service"):
        env = settings(prod, workload)
        url = urlsplit(env["DATABASE_URL"])
        assert url.scheme == "postgresql+asyncpg"
        assert (url.hostname, url.port) == (f"{name}-rw", 5432)
        assert (url.username, url.password) == (initdb["owner"], None)
        assert url.path == f"/{initdb['database']}"
        assert secret_env(workload)["DATABASE_PASSWORD"] == (f"{name}-app", "password")
        assert env["DATABASE_SSL_MODE"] == "verify-full"
        assert mounted_file(workload, env["DATABASE_SSL_CA_FILE"]) == (f"{name}-ca", "ca.crt")


@pytest.mark.parametrize("service", ["chat-api", "chat-worker", "aggregator"])
def test_firestore_is_real_and_reached_through_workload_identity(
    prod: Objects, service: str
) -> None:
    env = settings(prod, prod["Deployment"][service])
    assert env["FIRESTORE_EMULATOR_HOST"] == ""
    project = env["FIRESTORE_PROJECT"]
    assert not project.startswith("demo-"), "demo- project ids only work on the emulator"
    account = prod["ServiceAccount"][service]
    google = account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
    assert google.endswith(f"@{project}.iam.gserviceaccount.com")
    pod = prod["Deployment"][service]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == service
    if service == "aggregator":
        # Firestore's TTL policy deletes the batches: no sweeper reading every chat.
        assert env["SWEEP_ENABLED"] == "false"
