#!/usr/bin/env python3
"""Writes the seed corpus of node_report_fuzz: serialized epc.v1.NodeReport messages
(proto/epc/v1/node_reports.proto), encoded by hand in the protobuf wire format with the standard
library only, so the corpus can be remade without protoc or the python protobuf package.

Usage: tests/fuzz/gen_node_report_corpus.py [OUT_DIR]   (default: tests/fuzz/corpus/node_report)
"""
import os
import sys

MAX_EPC = 64 << 40  # report_limits.h kMaxEpcCapacityBytes
MAX_SLOTS = 100000
MAX_HOLDERS = 10000


def varint(value):
    value &= (1 << 64) - 1  # negative int32/int64 are sent as 10-byte two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, data):
    if isinstance(data, str):
        data = data.encode()
    return varint((number << 3) | 2) + varint(len(data)) + data


def slots(total, used):
    return field_varint(1, total) + field_varint(2, used)


def live(known, used):
    return field_varint(1, int(known)) + field_varint(2, used)


def health(healthy, reason=""):
    return field_varint(1, int(healthy)) + (field_bytes(2, reason) if reason else b"")


def holder(ns, name, uid="", epc=None, enclave=1, provision=0):
    out = field_bytes(1, ns) + field_bytes(2, name)
    if uid:
        out += field_bytes(3, uid)
    if epc is not None:
        out += field_varint(4, 1) + field_varint(5, epc)
    return out + field_varint(6, enclave) + field_varint(7, provision)


def section(numa, size):
    return field_varint(1, numa) + field_varint(2, size)


def node_state(capacity=128 << 20, sections=((0, 128 << 20),), enclave=(20, 1), provision=(20, 0),
               live_epc=(True, 64 << 20), holders=(), healthy=(True, "")):
    out = field_varint(1, 1) + field_varint(2, capacity)
    for numa, size in sections:
        out += field_bytes(3, section(numa, size))
    out += field_bytes(4, slots(*enclave)) + field_bytes(5, slots(*provision))
    out += field_bytes(6, live(*live_epc))
    for h in holders:
        out += field_bytes(7, h)
    return out + field_bytes(8, health(*healthy))


def report(kind_field, body, node="node-a", instance="inst-1", sequence=1, version="0.1.0"):
    out = b""
    if node is not None:
        out += field_bytes(1, node)
    if instance is not None:
        out += field_bytes(2, instance)
    out += field_varint(3, sequence)
    if version:
        out += field_bytes(4, version)
    if kind_field is not None:
        out += field_bytes(kind_field, body)
    return out


def snapshot(body=None, **kw):
    return report(10, node_state() if body is None else body, **kw)


def change(body, **kw):
    return report(11, body, **kw)


def heartbeat(**kw):
    return report(12, b"", **kw)


POD = holder("default", "sgx-small", "b1384c01-e267-4a96-85e7-e55bc97b8f3d", 64 << 20)
SEEDS = {
    "snapshot-typical": snapshot(body=node_state(holders=[POD])),
    "snapshot-no-sgx": snapshot(body=field_varint(1, 0) + field_bytes(8, health(False, "no SGX"))),
    "snapshot-limits": snapshot(body=node_state(
        capacity=MAX_EPC, sections=[(i, MAX_EPC // 8) for i in range(8)],
        enclave=(MAX_SLOTS, MAX_SLOTS), provision=(MAX_SLOTS, 0), live_epc=(True, MAX_EPC),
        holders=[holder("ns", "p", "u", MAX_EPC, MAX_SLOTS, MAX_SLOTS)],
        healthy=(False, "r" * 1024))),
    "snapshot-over-capacity": snapshot(body=node_state(capacity=MAX_EPC + 1)),
    "snapshot-nine-sections": snapshot(body=node_state(sections=[(i, 1) for i in range(9)])),
    "snapshot-used-over-total": snapshot(body=node_state(enclave=(2, 3))),
    "snapshot-slots-over": snapshot(body=node_state(provision=(MAX_SLOTS + 1, 0))),
    "snapshot-huge-varints": snapshot(body=node_state(capacity=(1 << 64) - 1,
                                                      live_epc=(True, (1 << 64) - 1))),
    "snapshot-negative-numa": snapshot(body=node_state(sections=[(-1, 4096)])),
    "snapshot-duplicate-holder": snapshot(body=node_state(holders=[POD, POD])),
    "snapshot-bad-holder-name": snapshot(body=node_state(holders=[holder("Default", "x_y")])),
    "snapshot-long-reason": snapshot(body=node_state(healthy=(False, "r" * 1025))),
    "snapshot-unknown-live": snapshot(body=node_state(live_epc=(False, 12345))),
    "snapshot-many-holders": snapshot(body=node_state(
        enclave=(MAX_SLOTS, 0), holders=[holder("ns", "p%d" % i) for i in range(MAX_HOLDERS + 1)])),
    "change-typical": change(
        field_bytes(1, slots(20, 2)) + field_bytes(3, live(True, 1 << 20)) +
        field_bytes(5, POD) + field_bytes(6, "default/old-pod"), sequence=2),
    "change-empty": change(b"", sequence=3),
    "change-bad-removed": change(field_bytes(6, "no-slash") + field_bytes(6, "/x")),
    "change-health": change(field_bytes(4, health(False, "EPC section offline"))),
    "heartbeat": heartbeat(sequence=7),
    "no-kind": report(None, b""),
    "bad-node-name": heartbeat(node="Node_A"),
    "long-node-name": heartbeat(node="a" * 254),
    "empty-instance": heartbeat(instance=""),
    "long-instance": heartbeat(instance="i" * 129),
    "long-version": heartbeat(version="v" * 129),
    "non-utf8-name": heartbeat(node=b"\xff\xfe"),
    "two-kinds": snapshot() + field_bytes(12, b""),
    "unknown-fields": heartbeat() + field_varint(99, 5) + field_bytes(100, b"xyz"),
    "truncated": snapshot(body=node_state(holders=[POD]))[:-7],
    "empty": b"",
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "node_report")
    os.makedirs(out_dir, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out_dir, name + ".pb"), "wb") as f:
            f.write(data)
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("Seeds for node_report_fuzz: serialized epc.v1.NodeReport messages written by "
                "tests/fuzz/gen_node_report_corpus.py (rerun it to remake them).\n")
    print("wrote %d seeds to %s" % (len(SEEDS), out_dir))


if __name__ == "__main__":
    main()
