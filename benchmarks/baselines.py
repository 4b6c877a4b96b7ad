"""What Confo is measured against, per backend, on the same store and the same data.

- floor: the raw client's best bulk call plus ``json.loads``/``json.dumps``, with the same
  guarantees Confo gives (a file is written atomically and durably; a transaction per request
  limit), since a floor that may lose data is not a floor for a configuration manager.
- naive: one round trip per configuration, which is what the original Confo did.
- peer: dynaconf doing the same job (its Redis loader, its JSON files), where it can.
- conditional: the raw client's own compare-and-set (``read_one``, ``write_if``, ``update``),
  the floor for Confo's conflict-safe persist and ``update()``: etcd's transaction with
  compares, ZooKeeper's multi with versions, Redis WATCH + MULTI/EXEC, files under flock.
  With ``record``, each transaction also writes a change record in it (a key beside, a
  sequential znode, a stream entry; files append a line to a log and sync it, after the
  change): the store's own price of a history, for Confo's to be judged against. The floor
  keeps every record (it never prunes).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

Configs = dict[str, dict[str, Any]]
Revisions = dict[str, Any]
Recorder = Callable[[list[str]], bytes]  # the record of a transaction writing those configs


class RawConflict(Exception):
    """A baseline's compare-and-set found a newer value."""


def dumps(config: dict[str, Any]) -> bytes:
    return json.dumps(config, separators=(",", ":")).encode()


class Baseline:
    """The raw operations for one store, in Confo's layout, namespace ``ns``."""

    name = ""

    def read(self, ns: str) -> Configs:
        raise NotImplementedError

    def write(self, ns: str, configs: Configs) -> None:
        raise NotImplementedError

    def read_naive(self, ns: str) -> Configs:
        raise NotImplementedError

    def write_naive(self, ns: str, configs: Configs) -> None:
        raise NotImplementedError

    def list_namespaces(self) -> list[str]:
        raise NotImplementedError

    def read_one(self, ns: str, name: str) -> tuple[dict[str, Any], Any]:
        """One configuration and its revision."""
        raise NotImplementedError

    def write_if(
        self, ns: str, configs: Configs, revisions: Revisions, record: Recorder | None = None
    ) -> Revisions:
        """Write ``configs`` if each still has its revision (RawConflict if not), each
        transaction with its ``record``, if given; new revisions."""
        raise NotImplementedError

    def revisions(self, ns: str) -> Revisions:
        """The revision of every configuration of ``ns``, in bulk (to start ``write_if`` from)."""
        raise NotImplementedError

    def update(self, ns: str, name: str, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """The raw client's own compare-and-set loop."""
        while True:
            config, revision = self.read_one(ns, name)
            try:
                self.write_if(ns, {name: fn(config)}, {name: revision})
                return
            except RawConflict:
                continue

    def close(self) -> None:
        """Release connections."""


class FileBaseline(Baseline):
    name = "file"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.recorded = False  # whether its record folder exists

    def read(self, ns: str) -> Configs:
        configs = {}
        for entry in os.scandir(self.root / ns):
            if entry.name.endswith(".json"):
                with open(entry.path, "rb") as file:
                    configs[entry.name[:-5]] = json.loads(file.read())
        return configs

    read_naive = read  # a directory scan is the only way to read files

    def write(self, ns: str, configs: Configs) -> None:
        folder = self.root / ns
        for name, config in configs.items():
            fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as file:
                file.write(json.dumps(config, indent=2).encode())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, folder / f"{name}.json")
        folder_fd = os.open(folder, os.O_RDONLY)
        os.fsync(folder_fd)
        os.close(folder_fd)

    def write_naive(self, ns: str, configs: Configs) -> None:
        """The original's way: overwrite in place, no fsync (not crash-safe)."""
        for name, config in configs.items():
            with open(self.root / ns / f"{name}.json", "w") as file:
                json.dump(config, file)

    def list_namespaces(self) -> list[str]:
        return sorted(e.name for e in os.scandir(self.root) if e.is_dir())

    def read_one(self, ns: str, name: str) -> tuple[dict[str, Any], Any]:
        with open(self.root / ns / f"{name}.json", "rb") as file:
            info = os.fstat(file.fileno())
            return json.loads(file.read()), (info.st_mtime_ns, info.st_ino, info.st_size)

    def revisions(self, ns: str) -> Revisions:
        return {
            entry.name[:-5]: (info.st_mtime_ns, info.st_ino, info.st_size)
            for entry in os.scandir(self.root / ns)
            if entry.name.endswith(".json") and (info := entry.stat())
        }

    def write_if(
        self, ns: str, configs: Configs, revisions: Revisions, record: Recorder | None = None
    ) -> Revisions:
        """Under an flock of the folder: compare each file's stat, then replace atomically."""
        folder = self.root / ns
        lock = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for name in configs:
                info = os.stat(folder / f"{name}.json")
                if (info.st_mtime_ns, info.st_ino, info.st_size) != revisions[name]:
                    raise RawConflict(name)
            new = {}
            for name, config in configs.items():
                fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
                with os.fdopen(fd, "wb") as file:
                    file.write(json.dumps(config, indent=2).encode())
                    file.flush()
                    os.fsync(file.fileno())
                    info = os.fstat(file.fileno())
                os.replace(temp, folder / f"{name}.json")
                new[name] = (info.st_mtime_ns, info.st_ino, info.st_size)
            os.fsync(lock)
            if record is not None:
                self._append(ns, record(list(configs)))
        finally:
            os.close(lock)
        return new

    def _append(self, ns: str, line: bytes) -> None:
        if not self.recorded:
            (self.root / ".raw-history").mkdir(exist_ok=True)
            self.recorded = True
        log = os.open(self.root / ".raw-history" / ns, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(log, line + b"\n")
            os.fdatasync(log)
        finally:
            os.close(log)


class RedisBaseline(Baseline):
    name = "redis"

    def __init__(self, port: int, prefix: str = "") -> None:
        import redis

        self.client = redis.Redis(host="127.0.0.1", port=port)
        self.prefix = prefix

    def _names(self, ns: str) -> list[str]:
        names: list[str] = json.loads(self.client.get(self.prefix + ns))["configurations"]
        return names

    def read(self, ns: str) -> Configs:
        names = self._names(ns)
        values = self.client.mget([f"{self.prefix}{ns}-{name}" for name in names])
        return {name: json.loads(value) for name, value in zip(names, values, strict=True)}

    def read_naive(self, ns: str) -> Configs:
        return {
            name: json.loads(self.client.get(f"{self.prefix}{ns}-{name}"))
            for name in self._names(ns)
        }

    def write(self, ns: str, configs: Configs) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.mset({f"{self.prefix}{ns}-{name}": dumps(c) for name, c in configs.items()})
        pipe.set(self.prefix + ns, json.dumps({"configurations": list(configs)}))
        pipe.execute()

    def write_naive(self, ns: str, configs: Configs) -> None:
        for name, config in configs.items():
            self.client.set(f"{self.prefix}{ns}-{name}", dumps(config))
        self.client.set(self.prefix + ns, json.dumps({"configurations": list(configs)}))

    def list_namespaces(self) -> list[str]:
        return sorted(json.loads(self.client.get(self.prefix + "confo"))["namespaces"])

    def read_one(self, ns: str, name: str) -> tuple[dict[str, Any], Any]:
        raw = self.client.get(f"{self.prefix}{ns}-{name}")
        return json.loads(raw), raw  # compare-and-set on Redis compares the bytes read

    def revisions(self, ns: str) -> Revisions:
        names = self._names(ns)
        values = self.client.mget([f"{self.prefix}{ns}-{name}" for name in names])
        return dict(zip(names, values, strict=True))

    def write_if(
        self, ns: str, configs: Configs, revisions: Revisions, record: Recorder | None = None
    ) -> Revisions:
        import redis

        keys = {name: f"{self.prefix}{ns}-{name}" for name in configs}
        encoded = {name: dumps(config) for name, config in configs.items()}
        with self.client.pipeline() as pipe:
            pipe.watch(*keys.values())
            current = pipe.mget(list(keys.values()))
            if any(raw != revisions[name] for name, raw in zip(keys, current, strict=True)):
                raise RawConflict(ns)
            pipe.multi()
            pipe.mset({keys[name]: data for name, data in encoded.items()})
            if record is not None:
                pipe.xadd(f"{self.prefix}raw-history/{ns}", {"record": record(list(configs))})
            try:
                pipe.execute()
            except redis.WatchError:
                raise RawConflict(ns) from None
        return encoded

    def close(self) -> None:
        self.client.close()


class ZookeeperBaseline(Baseline):
    name = "zookeeper"
    max_request = 1_000_000

    def __init__(self, hosts: str) -> None:
        from kazoo.client import KazooClient

        self.client = KazooClient(hosts=hosts)
        self.client.start()
        self.recorded: set[str] = set()  # namespaces whose record parent exists

    def read(self, ns: str) -> Configs:
        names = self.client.get_children(f"/confo/{ns}")
        pending = [self.client.get_async(f"/confo/{ns}/{name}") for name in names]
        return {name: json.loads(p.get()[0]) for name, p in zip(names, pending, strict=True)}

    def read_naive(self, ns: str) -> Configs:
        names = self.client.get_children(f"/confo/{ns}")
        return {name: json.loads(self.client.get(f"/confo/{ns}/{name}")[0]) for name in names}

    def write(self, ns: str, configs: Configs) -> None:
        """set_data of existing znodes, in transactions under the request size limit."""
        transaction, size = self.client.transaction(), 0
        for name, config in configs.items():
            data = dumps(config)
            if size + len(data) + 64 > self.max_request:
                transaction.commit()
                transaction, size = self.client.transaction(), 0
            transaction.set_data(f"/confo/{ns}/{name}", data)
            size += len(data) + 64
        transaction.commit()

    def write_naive(self, ns: str, configs: Configs) -> None:
        for name, config in configs.items():
            self.client.set(f"/confo/{ns}/{name}", dumps(config))

    def list_namespaces(self) -> list[str]:
        return sorted(self.client.get_children("/confo"))

    def read_one(self, ns: str, name: str) -> tuple[dict[str, Any], Any]:
        data, stat = self.client.get(f"/confo/{ns}/{name}")
        return json.loads(data), stat.version

    def revisions(self, ns: str) -> Revisions:
        names = self.client.get_children(f"/confo/{ns}")
        pending = [self.client.exists_async(f"/confo/{ns}/{name}") for name in names]
        return {name: p.get().version for name, p in zip(names, pending, strict=True)}

    def write_if(
        self, ns: str, configs: Configs, revisions: Revisions, record: Recorder | None = None
    ) -> Revisions:
        """Multis of set_data with the expected versions, each within the request size limit
        (a third of it with a record, which holds each value twice)."""
        limit = self.max_request // 3 if record else self.max_request
        new: Revisions = {}
        chunk: list[tuple[str, bytes]] = []
        size = 0
        for name, config in configs.items():
            data = dumps(config)
            if chunk and size + len(data) + 64 > limit:
                new.update(self._commit_if(ns, chunk, revisions, record))
                chunk, size = [], 0
            chunk.append((name, data))
            size += len(data) + 64
        new.update(self._commit_if(ns, chunk, revisions, record))
        return new

    def _commit_if(
        self,
        ns: str,
        chunk: list[tuple[str, bytes]],
        revisions: Revisions,
        record: Recorder | None,
    ) -> Revisions:
        transaction = self.client.transaction()
        for name, data in chunk:
            transaction.set_data(f"/confo/{ns}/{name}", data, revisions[name])
        if record is not None:
            if ns not in self.recorded:
                self.client.ensure_path(f"/raw-history/{ns}")
                self.recorded.add(ns)
            transaction.create(
                f"/raw-history/{ns}/r-", record([name for name, _ in chunk]), sequence=True
            )
        results = transaction.commit()
        if any(isinstance(result, Exception) for result in results):
            raise RawConflict(ns)
        return {name: stat.version for (name, _), stat in zip(chunk, results, strict=False)}

    def close(self) -> None:
        self.client.stop()
        self.client.close()


class EtcdBaseline(Baseline):
    name = "etcd"
    max_ops = 128

    def __init__(self, port: int) -> None:
        import pyetcd

        self.client = pyetcd.client(host="127.0.0.1", port=port)

    def read(self, ns: str) -> Configs:
        prefix = f"/confo/{ns}/"
        return {
            meta.key.decode()[len(prefix) :]: json.loads(value)
            for value, meta in self.client.get_prefix(prefix)
        }

    def read_naive(self, ns: str) -> Configs:
        prefix = f"/confo/{ns}/"
        keys = [meta.key.decode() for _, meta in self.client.get_prefix(prefix, keys_only=True)]
        return {key[len(prefix) :]: json.loads(self.client.get(key)[0]) for key in keys}

    def write(self, ns: str, configs: Configs) -> None:
        puts = [
            self.client.transactions.put(f"/confo/{ns}/{name}", dumps(config))
            for name, config in configs.items()
        ]
        for start in range(0, len(puts), self.max_ops):
            self.client.transaction(
                compare=[], success=puts[start : start + self.max_ops], failure=[]
            )

    def write_naive(self, ns: str, configs: Configs) -> None:
        for name, config in configs.items():
            self.client.put(f"/confo/{ns}/{name}", dumps(config))

    def list_namespaces(self) -> list[str]:
        keys = (meta.key.decode() for _, meta in self.client.get_prefix("/confo/", keys_only=True))
        return sorted({key[len("/confo/") :].split("/", 1)[0] for key in keys})

    def read_one(self, ns: str, name: str) -> tuple[dict[str, Any], Any]:
        value, meta = self.client.get(f"/confo/{ns}/{name}")
        return json.loads(value), meta.mod_revision

    def revisions(self, ns: str) -> Revisions:
        prefix = f"/confo/{ns}/"
        return {
            meta.key.decode()[len(prefix) :]: meta.mod_revision
            for _, meta in self.client.get_prefix(prefix, keys_only=True)
        }

    def write_if(
        self, ns: str, configs: Configs, revisions: Revisions, record: Recorder | None = None
    ) -> Revisions:
        """Transactions of at most 128 operations, puts comparing their keys' mod_revision
        (and the put of a record under a key of its own, with ``record``)."""
        names, new = list(configs), {}
        ops = self.client.transactions
        per = self.max_ops - 1 if record else self.max_ops
        for start in range(0, len(names), per):
            chunk = names[start : start + per]
            keys = {name: f"/confo/{ns}/{name}" for name in chunk}
            success = [ops.put(keys[name], dumps(configs[name])) for name in chunk]
            if record is not None:
                success.append(ops.put(f"/raw-history/{ns}/{uuid.uuid4().hex}", record(chunk)))
            succeeded, responses = self.client.transaction(
                compare=[ops.mod(keys[name]) == revisions[name] for name in chunk],
                success=success,
                failure=[],
            )
            if not succeeded:
                raise RawConflict(ns)
            revision = responses[0].response_put.header.revision
            new.update(dict.fromkeys(chunk, revision))
        return new

    def close(self) -> None:
        self.client.close()


class DynaconfPeer:
    """dynaconf doing Confo's job: load and store a namespace's configurations."""

    def __init__(self, kind: str, location: str | int) -> None:
        from dynaconf import Dynaconf

        self.kind = kind
        self.location = location
        options: dict[str, Any] = {"environments": False}
        if kind == "redis":
            options.update(
                REDIS_ENABLED_FOR_DYNACONF=True,
                REDIS_FOR_DYNACONF={"host": "127.0.0.1", "port": location, "db": 0},
            )
        self.settings = Dynaconf(**options)

    def write(self, configs: Configs) -> None:
        if self.kind == "redis":
            from dynaconf.loaders import redis_loader

            redis_loader.write(self.settings, configs)
        else:
            folder = Path(str(self.location))
            for name, config in configs.items():
                (folder / f"{name}.json").write_text(json.dumps({name: config}))

    def read(self) -> Any:
        from dynaconf import Dynaconf

        if self.kind == "redis":
            from dynaconf.loaders import redis_loader

            redis_loader.load(self.settings)
            return self.settings
        files = sorted(str(p) for p in Path(str(self.location)).glob("*.json"))
        settings = Dynaconf(settings_files=files, environments=False)
        settings.as_dict()  # dynaconf loads lazily: force it
        return settings
