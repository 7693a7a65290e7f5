#!/usr/bin/env python3
"""Writes deploy/k8s/monitoring/prometheusrule.yaml from deploy/prometheus/rules.yaml.

rules.yaml is the one place alerts are edited: promtool checks and tests it, and the
Prometheus Operator gets the same groups through the PrometheusRule this writes.
`--check` exits 1 when the PrometheusRule is out of date instead of writing it.
"""
import pathlib
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
TARGET = HERE.parent / "k8s" / "monitoring" / "prometheusrule.yaml"
HEADER = """\
# Generated from deploy/prometheus/rules.yaml by deploy/prometheus/render.py; edit the
# rules there and run the script. The alerts, their thresholds and runbooks are
# explained in that file and in docs/operations.md. Needs the Prometheus Operator.
"""


class Literal(str):
    """A multi-line string, written as a YAML block so the PromQL stays readable."""


def literal(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


def render() -> str:
    rules = yaml.safe_load((HERE / "rules.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "\n" in rule["expr"]:
                rule["expr"] = Literal(rule["expr"])
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "tovuti-ghl-bridge",
            "namespace": "tovuti-ghl-bridge",
            # The label a default Prometheus Operator install selects rules by; match
            # your Prometheus' ruleSelector.
            "labels": {"release": "prometheus"},
        },
        "spec": rules,
    }
    dumper = yaml.SafeDumper
    dumper.add_representer(Literal, literal)
    return HEADER + yaml.dump(resource, Dumper=dumper, sort_keys=False, width=100)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run {pathlib.Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
