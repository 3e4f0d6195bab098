"""Checks the JSON Schemas in schema/ against the workflow language (docs/workflow-language.md).

* both schemas are valid draft 2020-12 schemas, and every property carries a description
  (editors show it as hover documentation);
* every Workflows/*.yaml validates against schema/workflow.schema.json and every
  Workflows/scenarios/*.yaml against schema/scenario.schema.json;
* every fixture in Tests/JointOpsCoreTests/Fixtures/invalid/*.yaml carrying a line
  `# schema: reject` is rejected by the schema;
* the examples in docs/workflow-language.md are accepted, and a set of inline broken
  samples is rejected.

Globs that find nothing make the tests fail: nothing here passes vacuously.

YAML is read with the YAML 1.2 core schema, as editors (the YAML language server) do:
`on`, `yes`, `no` are strings, not booleans, timestamps stay strings, and a duplicate key
is an error. PyYAML's default YAML 1.1 resolution would turn every `on:` key into `True`.

Run: python3 -m pytest tests -q   (needs requirements-test.txt)
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA_DIR = ROOT / "schema"
WORKFLOW_SCHEMA_PATH = SCHEMA_DIR / "workflow.schema.json"
SCENARIO_SCHEMA_PATH = SCHEMA_DIR / "scenario.schema.json"
WORKFLOWS_DIR = ROOT / "Workflows"
SCENARIOS_DIR = WORKFLOWS_DIR / "scenarios"
INVALID_FIXTURES_DIR = ROOT / "Tests" / "JointOpsCoreTests" / "Fixtures" / "invalid"
SPEC_PATH = ROOT / "docs" / "workflow-language.md"

REJECT_MARKER = re.compile(r"^[ \t]*#[ \t]*schema:[ \t]*reject[ \t]*$", re.MULTILINE)


# --------------------------------------------------------------------------- YAML 1.2


class DuplicateKeyError(yaml.constructor.ConstructorError):
    pass


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader restricted to the YAML 1.2 core schema, refusing duplicate keys."""

    yaml_implicit_resolvers: dict = {}

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # the base constructor reports unhashable keys
            if key in seen:
                raise DuplicateKeyError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {key!r}", key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)


for _tag, _pattern, _first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
]:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
Yaml12Loader.add_constructor("tag:yaml.org,2002:int", Yaml12Loader.construct_yaml_int)


def load_yaml(text: str):
    return yaml.load(text, Loader=Yaml12Loader)


def test_yaml_loader_follows_yaml_1_2():
    doc = load_yaml(
        "on: {yes: no}\nat: 2026-11-29T08:00:00+08:00\ntz: +10:00\nv: 010\nb: true\nn: null\nf: 1.5\n"
    )
    assert doc == {
        "on": {"yes": "no"},
        "at": "2026-11-29T08:00:00+08:00",
        "tz": "+10:00",
        "v": 10,
        "b": True,
        "n": None,
        "f": 1.5,
    }
    with pytest.raises(DuplicateKeyError):
        load_yaml("a: 1\na: 2\n")


# --------------------------------------------------------------------------- schemas


def _load_schema(path: Path) -> dict:
    assert path.is_file(), f"missing schema {path}"
    return json.loads(path.read_text(encoding="utf-8"))


WORKFLOW_SCHEMA = _load_schema(WORKFLOW_SCHEMA_PATH)
SCENARIO_SCHEMA = _load_schema(SCENARIO_SCHEMA_PATH)
WORKFLOW_VALIDATOR = Draft202012Validator(WORKFLOW_SCHEMA)
SCENARIO_VALIDATOR = Draft202012Validator(SCENARIO_SCHEMA)


def errors(validator: Draft202012Validator, document) -> list[str]:
    found = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in found]


@pytest.mark.parametrize("path", [WORKFLOW_SCHEMA_PATH, SCENARIO_SCHEMA_PATH], ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path):
    schema = _load_schema(path)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


# Subschemas under these keywords only constrain properties declared elsewhere (the
# `type`-dependent `default` of an attribute, "exactly one of", "at least one initial"):
# they are not declarations and need neither descriptions nor additionalProperties.
CONSTRAINT_KEYWORDS = {"if", "then", "else", "not"}


def _properties_without_description(node, where="#"):
    missing = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            if not isinstance(sub, dict) or not sub.get("description"):
                missing.append(f"{where}/properties/{name}")
        for name, sub in node.get("$defs", {}).items():
            if not isinstance(sub, dict) or not sub.get("description"):
                missing.append(f"{where}/$defs/{name}")
        for key, sub in node.items():
            if key not in CONSTRAINT_KEYWORDS:
                missing += _properties_without_description(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            missing += _properties_without_description(sub, f"{where}/{index}")
    return missing


@pytest.mark.parametrize("path", [WORKFLOW_SCHEMA_PATH, SCENARIO_SCHEMA_PATH], ids=lambda p: p.name)
def test_every_property_has_a_description(path):
    assert _properties_without_description(_load_schema(path)) == []


def _closed_everywhere(node, where="#"):
    """Every object schema that declares properties forbids unknown keys."""
    open_objects = []
    if isinstance(node, dict):
        if "properties" in node and node.get("additionalProperties") is not False:
            open_objects.append(where)
        for key, sub in node.items():
            if key in CONSTRAINT_KEYWORDS:
                continue
            if key != "properties":
                open_objects += _closed_everywhere(sub, f"{where}/{key}")
            else:
                for name, prop in sub.items():
                    open_objects += _closed_everywhere(prop, f"{where}/properties/{name}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            open_objects += _closed_everywhere(sub, f"{where}/{index}")
    return open_objects


@pytest.mark.parametrize("path", [WORKFLOW_SCHEMA_PATH, SCENARIO_SCHEMA_PATH], ids=lambda p: p.name)
def test_unknown_keys_are_rejected_everywhere(path):
    assert _closed_everywhere(_load_schema(path)) == []


# --------------------------------------------------------------------------- the project's files


def _workflow_files():
    return sorted(WORKFLOWS_DIR.glob("*.yaml"))


def _scenario_files():
    return sorted(SCENARIOS_DIR.glob("*.yaml"))


def _reject_fixtures():
    return sorted(
        p for p in INVALID_FIXTURES_DIR.glob("*.yaml")
        if REJECT_MARKER.search(p.read_text(encoding="utf-8"))
    )


def test_workflow_files_exist():
    assert _workflow_files(), f"no workflow found by {WORKFLOWS_DIR}/*.yaml"


def test_scenario_files_exist():
    assert _scenario_files(), f"no scenario found by {SCENARIOS_DIR}/*.yaml"


def test_schema_reject_fixtures_exist():
    assert _reject_fixtures(), (
        f"no fixture in {INVALID_FIXTURES_DIR}/*.yaml carries a '# schema: reject' line"
    )


@pytest.mark.parametrize("path", _workflow_files(), ids=lambda p: p.name)
def test_workflow_file_is_valid(path):
    document = load_yaml(path.read_text(encoding="utf-8"))
    assert errors(WORKFLOW_VALIDATOR, document) == []


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: p.name)
def test_scenario_file_is_valid(path):
    document = load_yaml(path.read_text(encoding="utf-8"))
    assert errors(SCENARIO_VALIDATOR, document) == []


@pytest.mark.parametrize("path", _reject_fixtures(), ids=lambda p: p.name)
def test_fixture_marked_schema_reject_is_rejected(path):
    """A fixture is checked against the scenario schema when it has a top-level `scenario`
    or `timeline` key, else against the workflow schema. A fixture that is not even
    well-formed YAML 1.2 (syntax error, duplicate key) counts as rejected: editors flag it."""
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return
    is_scenario = isinstance(document, dict) and ("scenario" in document or "timeline" in document)
    validator = SCENARIO_VALIDATOR if is_scenario else WORKFLOW_VALIDATOR
    assert errors(validator, document) != [], f"{path.name} is marked '# schema: reject' but the schema accepts it"


# --------------------------------------------------------------------------- the spec's examples


def _spec_yaml_blocks():
    text = SPEC_PATH.read_text(encoding="utf-8")
    return re.findall(r"^```yaml\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


PHASE_KEYS = set(WORKFLOW_SCHEMA["$defs"]["phase"]["properties"])
TOP_LEVEL_KEYS = set(WORKFLOW_SCHEMA["properties"])


def _split_top_level(block: str) -> list[str]:
    """Top-level entries of a YAML block, one string each (for blocks that show
    alternatives of the same key, such as the two forms of `title`)."""
    parts, current = [], []
    for line in block.splitlines(keepends=True):
        if line[:1] not in ("", " ", "\t", "#", "\n") and current:
            parts.append("".join(current))
            current = []
        current.append(line)
    if current:
        parts.append("".join(current))
    return [p for p in parts if p.strip() and not p.lstrip().startswith("#")]


def test_spec_has_yaml_examples():
    assert len(_spec_yaml_blocks()) >= 5


@pytest.mark.parametrize("block", _spec_yaml_blocks(), ids=lambda b: b.split("\n", 1)[0][:40])
def test_spec_example_is_accepted(block):
    try:
        fragments = [load_yaml(block)]
    except DuplicateKeyError:
        fragments = [load_yaml(part) for part in _split_top_level(block)]
    for fragment in fragments:
        assert isinstance(fragment, dict)
        if "scenario" in fragment:
            assert errors(SCENARIO_VALIDATOR, fragment) == []
        elif "workflow" in fragment:
            assert errors(WORKFLOW_VALIDATOR, fragment) == []
        elif set(fragment) <= TOP_LEVEL_KEYS:
            document = copy.deepcopy(VALID_WORKFLOW)
            document.update(fragment)
            assert errors(WORKFLOW_VALIDATOR, document) == []
        elif set(fragment) <= PHASE_KEYS:
            document = copy.deepcopy(VALID_WORKFLOW)
            document["phases"]["assessing"].update(fragment)
            assert errors(WORKFLOW_VALIDATOR, document) == []
        else:
            pytest.fail(f"spec example with unexpected keys {sorted(fragment)}; teach this test about it")


# --------------------------------------------------------------------------- inline samples

VALID_WORKFLOW_TEXT = """\
workflow: street-robbery
version: 1
title: {zh: 街面抢劫处置, en: Street robbery response}
description: A small but complete workflow.
timezone: "+08:00"
attributes:
  incident_type:
    type: enum
    values: [armed_robbery, armed_assault]
    required: true
    default: armed_robbery
    title: 警情类型
  priority: {type: priority, required: true, default: P2}
  weapon_involved: {type: bool, default: false}
  suspects: {type: int, default: 1}
  reporter: {type: string, default: unknown}
phases:
  reported:
    initial: true
    title: {en: Reported}
    on:
      assess: assessing
  assessing:
    dispatch: [intelligence]
    on:
      plan:
        - {to: planning, when: priority <= P2}
        - to: in_action
      dispatch: {to: in_action, when: weapon_involved, title: 下达指令}
  planning:
    on: {execute: in_action}
    after:
      - {delay: 30m, event: execute}
  in_action:
    dispatch:
      - branch: patrol
        units: 2
      - {branch: swat, when: weapon_involved, region: hexi-swat}
    join:
      - all: ended
        of: [patrol, swat]
        to: reviewing
      - {any: failed, to: assessing}
  reviewing:
    on: {reopen: in_action}
branches:
  intelligence:
    kind: intelligence
    required: false
    steps:
      dispatched: {initial: true, next: [reported_back, stood_down]}
      reported_back: {end: completed}
      stood_down: {end: stood_down}
  patrol:
    kind: public_order
    units: 2
    title: 巡警
    steps:
      dispatched: {initial: true, next: [en_route, on_scene, stood_down]}
      en_route: {optional: true, next: [on_scene, stood_down]}
      on_scene:
        outcomes: {contained: completed, suspect_fled: failed, false_alarm: stood_down}
      completed: {end: completed, title: {zh: 完成}}
      failed: {end: failed}
      stood_down: {end: stood_down}
  swat:
    kind: swat
    steps:
      dispatched: {initial: true, next: [on_scene, stood_down]}
      on_scene: {next: [completed, stood_down]}
      completed: {end: completed}
      stood_down: {end: stood_down}
deadlines:
  - id: patrol_on_scene
    title: {zh: 巡警10分钟到场, en: Patrol on scene within 10 minutes}
    reach: patrol.on_scene
    from: patrol.dispatched
    within: 10m
    escalation:
      - {after: 0m, notify: branch_lead}
      - {after: 5m, reinforce: patrol}
      - {after: 1h30m, event: plan}
    reescalate: 10m
  - id: report_written
    reach: closed
    from: started
    within: 5wd
hold: {allowed: true, clock: pause}
reinforce: [patrol, swat]
reassign: true
cancel: {reasons: [false_alarm, duplicate]}
close:
  from: [reviewing]
  dispositions: [resolved, referred, unfounded]
"""

VALID_WORKFLOW = load_yaml(VALID_WORKFLOW_TEXT)


def test_inline_valid_workflow_is_accepted():
    assert errors(WORKFLOW_VALIDATOR, VALID_WORKFLOW) == []


def _set(path: str, value):
    """A mutation setting the value at a '/'-separated path (list indices as numbers)."""
    def mutate(document):
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        node = document
        for part in parents:
            node = node[part]
        node[last] = value
    return mutate


def _delete(path: str):
    def mutate(document):
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        node = document
        for part in parents:
            node = node[part]
        del node[last]
    return mutate


ACCEPTED_WORKFLOW_VARIANTS = {
    "title as a plain string": _set("title", "街面抢劫处置"),
    "title in English only": _set("title", {"en": "Street robbery"}),
    "negative timezone": _set("timezone", "-05:30"),
    "duration in seconds": _set("deadlines/0/within", "90s"),
    "duration in weeks": _set("deadlines/0/within", "2w"),
    "duration 7d": _set("deadlines/0/within", "7d"),
    "workflow id with underscore and digits": _set("workflow", "armed_response-2"),
    "join with any ended": _set("phases/in_action/join/1/any", "ended"),
    "deadline reaching a phase": _set("deadlines/0/reach", "reviewing"),
    "no optional sections": lambda d: [d.pop(k) for k in
        ["description", "timezone", "attributes", "deadlines", "hold", "reinforce", "reassign", "cancel"]],
}


@pytest.mark.parametrize("mutate", ACCEPTED_WORKFLOW_VARIANTS.values(), ids=ACCEPTED_WORKFLOW_VARIANTS.keys())
def test_inline_valid_variant_is_accepted(mutate):
    document = copy.deepcopy(VALID_WORKFLOW)
    mutate(document)
    assert errors(WORKFLOW_VALIDATOR, document) == []


REJECTED_WORKFLOW_VARIANTS = {
    # unknown keys
    "unknown top-level key": _set("owner", "ops"),
    "unknown phase key": _set("phases/reported/transitions", {"assess": "assessing"}),
    "unknown step key": _set("branches/swat/steps/on_scene/timeout", "5m"),
    "unknown attribute key": _set("attributes/suspects/min", 0),
    "unknown deadline key": _set("deadlines/0/owner", "x"),
    "unknown title language": _set("title", {"zh": "抢劫", "fr": "Vol"}),
    # required keys
    "missing close": _delete("close"),
    "missing phases": _delete("phases"),
    "missing title": _delete("title"),
    "missing version": _delete("version"),
    "missing workflow id": _delete("workflow"),
    "close without dispositions": _delete("close/dispositions"),
    "attribute without type": _delete("attributes/suspects/type"),
    "branch without steps": _delete("branches/swat/steps"),
    "deadline without within": _delete("deadlines/0/within"),
    "transition without to": _set("phases/assessing/on/dispatch", {"when": "weapon_involved"}),
    "join without to": _delete("phases/in_action/join/1/to"),
    "timer without event": _delete("phases/planning/after/0/event"),
    # types and values
    "version as a string": _set("version", "1"),
    "version zero": _set("version", 0),
    "version not an integer": _set("version", 1.5),
    "empty title object": _set("title", {}),
    "empty title string": _set("title", ""),
    "reassign as the string yes": _set("reassign", "yes"),
    "timezone without leading sign": _set("timezone", "08:00"),
    "timezone as a name": _set("timezone", "Asia/Shanghai"),
    "timezone with one-digit hour": _set("timezone", "+8:00"),
    # durations
    "duration '15 minutes'": _set("deadlines/0/within", "15 minutes"),
    "duration without unit": _set("deadlines/0/within", "15"),
    "duration with unknown unit": _set("deadlines/0/within", "15min"),
    "duration as a number": _set("deadlines/0/within", 15),
    "wd combined with another unit": _set("deadlines/1/within", "1h5wd"),
    "wd alone without a number": _set("deadlines/1/within", "wd"),
    "zero deadline": _set("deadlines/0/within", "0m"),
    "zero working days": _set("deadlines/1/within", "0wd"),
    "bad rung after": _set("deadlines/0/escalation/1/after", "five minutes"),
    "bad timer delay": _set("phases/planning/after/0/delay", "30 mins"),
    # identifiers
    "uppercase phase name": lambda d: d["phases"].update({"Reviewing": {}}),
    "phase name with a dash": lambda d: d["phases"].update({"in-review": {}}),
    "workflow id starting with a digit": _set("workflow", "1-robbery"),
    "workflow id with uppercase": _set("workflow", "Street-robbery"),
    "attribute name with a dash": lambda d: d["attributes"].update({"weapon-type": {"type": "string"}}),
    "declared phase closed": lambda d: d["phases"].update({"closed": {}}),
    "declared phase cancelled": lambda d: d["phases"].update({"cancelled": {}}),
    "event targeting closed": _set("phases/reviewing/on/reopen", "closed"),
    # escalation rungs
    "rung with two actions": _set("deadlines/0/escalation/0", {"after": "0m", "notify": "branch_lead", "event": "plan"}),
    "rung with three actions": _set(
        "deadlines/0/escalation/0", {"after": "0m", "notify": "a", "reinforce": "swat", "event": "plan"}),
    "rung without an action": _set("deadlines/0/escalation/0", {"after": "0m"}),
    "rung without after": _set("deadlines/0/escalation/0", {"notify": "branch_lead"}),
    # attributes
    "enum attribute without values": _delete("attributes/incident_type/values"),
    "values on a non-enum attribute": _set("attributes/suspects/values", ["one", "two"]),
    "enum values not identifiers": _set("attributes/incident_type/values", ["Armed Robbery"]),
    "empty enum values": _set("attributes/incident_type/values", []),
    "unknown attribute type": _set("attributes/suspects/type", "integer"),
    "bool default of the wrong type": _set("attributes/weapon_involved/default", "no"),
    "int default of the wrong type": _set("attributes/suspects/default", "one"),
    "string default of the wrong type": _set("attributes/reporter/default", 5),
    "priority default out of range": _set("attributes/priority/default", "P5"),
    "required as a string": _set("attributes/priority/required", "true"),
    # phases
    "no initial phase": _delete("phases/reported/initial"),
    "empty phases": _set("phases", {}),
    "initial not a bool": _set("phases/reported/initial", "yes"),
    "guarded alternatives empty": _set("phases/assessing/on/plan", []),
    "alternative with unknown key": _set("phases/assessing/on/plan/1/goto", "planning"),
    "dispatch as a single string": _set("phases/assessing/dispatch", "intelligence"),
    "dispatch entry without branch": _set("phases/in_action/dispatch/0", {"units": 2}),
    "dispatch with zero units": _set("phases/in_action/dispatch/0/units", 0),
    "join with both all and any": _set("phases/in_action/join/0/any", "failed"),
    "join with neither all nor any": _delete("phases/in_action/join/1/any"),
    "join on status active": _set("phases/in_action/join/1/any", "active"),
    # branches and steps
    "unknown branch kind": _set("branches/swat/kind", "special_forces"),
    "branch without kind": _delete("branches/swat/kind"),
    "branch units zero": _set("branches/patrol/units", 0),
    "no initial step": _delete("branches/swat/steps/dispatched/initial"),
    "no stood_down end step": lambda d: d["branches"]["swat"]["steps"].update(
        {"dispatched": {"initial": True, "next": ["on_scene"]}, "stood_down": {"end": "completed"}}),
    "end step with next": _set("branches/swat/steps/completed/next", ["on_scene"]),
    "end step with outcomes": _set("branches/swat/steps/completed/outcomes", {"again": "on_scene"}),
    "unknown end status": _set("branches/swat/steps/completed/end", "done"),
    "next as a string": _set("branches/swat/steps/on_scene/next", "completed"),
    # deadlines
    "moment with two dots": _set("deadlines/0/reach", "patrol.on_scene.now"),
    "deadline measured from closed": _set("deadlines/1/from", "closed"),
    "deadline id not an identifier": _set("deadlines/0/id", "patrol on scene"),
    "empty escalation ladder": _set("deadlines/0/escalation", []),
    # run-time policies
    "unknown hold clock": _set("hold/clock", "stop"),
    "hold without allowed": _delete("hold/allowed"),
    "reinforce as a string": _set("reinforce", "patrol"),
    "cancel as a list": _set("cancel", ["false_alarm"]),
    "close from closed": _set("close/from", ["closed"]),
    "close from nothing": _set("close/from", []),
}


@pytest.mark.parametrize("mutate", REJECTED_WORKFLOW_VARIANTS.values(), ids=REJECTED_WORKFLOW_VARIANTS.keys())
def test_inline_broken_workflow_is_rejected(mutate):
    document = copy.deepcopy(VALID_WORKFLOW)
    mutate(document)
    assert errors(WORKFLOW_VALIDATOR, document) != []


def test_inline_broken_yaml_texts_are_rejected():
    """The same kind of mistakes written as an author would, through the YAML loader."""
    texts = {
        "bad duration": VALID_WORKFLOW_TEXT.replace("within: 10m", "within: 15 minutes"),
        "wrong type for version": VALID_WORKFLOW_TEXT.replace("version: 1", "version: one"),
        "unknown key": VALID_WORKFLOW_TEXT.replace("reassign: true", "reasign: true"),
        "missing close": VALID_WORKFLOW_TEXT.split("close:\n")[0],
        "rung with two actions": VALID_WORKFLOW_TEXT.replace(
            "{after: 0m, notify: branch_lead}", "{after: 0m, notify: branch_lead, reinforce: patrol}"),
        "enum attribute without values": VALID_WORKFLOW_TEXT.replace(
            "    values: [armed_robbery, armed_assault]\n", ""),
    }
    for name, text in texts.items():
        assert text != VALID_WORKFLOW_TEXT, name
        assert errors(WORKFLOW_VALIDATOR, load_yaml(text)) != [], name


VALID_SCENARIO_TEXT = """\
scenario: SWAT arrives late and the ladder climbs
workflow: street-robbery
start:
  id: OP-1
  region: hexi
  at: 2026-11-29T08:00:00+08:00
  attributes: {incident_type: armed_robbery, priority: P1, weapon_involved: true, suspects: 2}
timeline:
  - {at: 0s, note: 接报}
  - {at: 1m, fire: assess}
  - {at: 2m, fire: dispatch}
  - {at: 5m, advance: {branch: patrol, to: en_route}}
  - {at: 6m, advance: {branch: patrol, outcome: contained}}
  - {at: 7m, reinforce: {branch: swat, units: 2, region: hexi}}
  - {at: 8m, reassign: {region: heping, branch: swat#2}}
  - {at: 9m, reassign: {region: heping}}
  - {at: 10m, hold: waiting for the prosecutor}
  - {at: 11m, resume: {}}
  - {at: 12m, escalate: {reason: suspect armed, to: duty_commander}}
  - {at: 13m, escalate: {reason: press on scene}}
  - at: 22m
    expect:
      phase: in_action
      steps: {swat: on_scene, swat#2: dispatched}
      statuses: {patrol: completed, intelligence: not_dispatched}
      escalations: [patrol_on_scene/1, patrol_on_scene/2]
      held: false
  - {at: 23m, acknowledge: {deadline: patrol_on_scene}}
  - {at: 23m, acknowledge: {escalation: patrol_on_scene/2}}
  - {at: 25m, close: {disposition: resolved}, refused: "still active"}
  - {at: 1h, cancel: {reason: duplicate}}
  - {at: 1h, expect: {phase: cancelled}}
"""

VALID_SCENARIO = load_yaml(VALID_SCENARIO_TEXT)


def test_inline_valid_scenario_is_accepted():
    assert errors(SCENARIO_VALIDATOR, VALID_SCENARIO) == []


REJECTED_SCENARIO_VARIANTS = {
    "unknown top-level key": _set("owner", "x"),
    "missing workflow": _delete("workflow"),
    "missing start": _delete("start"),
    "missing timeline": _delete("timeline"),
    "empty timeline": _set("timeline", []),
    "start without region": _delete("start/region"),
    "start with unknown key": _set("start/priority", "P1"),
    "start time without offset": _set("start/at", "2026-11-29T08:00:00"),
    "attribute value a list": _set("start/attributes/suspects", [1, 2]),
    "entry without at": _delete("timeline/1/at"),
    "entry with bad at": _set("timeline/1/at", "1 minute"),
    "entry without a command": _set("timeline/1", {"at": "1m"}),
    "entry with two commands": _set("timeline/1", {"at": "1m", "fire": "assess", "note": "x"}),
    "entry with command and expect": _set("timeline/1", {"at": "1m", "fire": "assess", "expect": {"phase": "x"}}),
    "entry with unknown command": _set("timeline/1", {"at": "1m", "fires": "assess"}),
    "refused on an expect": _set("timeline/12/refused", "no"),
    "advance with both to and outcome": _set("timeline/3/advance/outcome", "contained"),
    "advance with neither to nor outcome": _delete("timeline/3/advance/to"),
    "advance of a bad instance": _set("timeline/3/advance/branch", "patrol#two"),
    "reinforce without branch": _set("timeline/5/reinforce", {"units": 1}),
    "reassign without region": _set("timeline/6/reassign", {"branch": "swat"}),
    "resume with content": _set("timeline/9/resume", {"reason": "x"}),
    "hold as an object": _set("timeline/8/hold", {"reason": "x"}),
    "escalate without reason": _set("timeline/10/escalate", {"to": "duty_commander"}),
    "acknowledge both": _set("timeline/13/acknowledge", {"deadline": "a", "escalation": "a/1"}),
    "acknowledge nothing": _set("timeline/13/acknowledge", {}),
    "cancel without reason": _set("timeline/16/cancel", {}),
    "close without disposition": _set("timeline/15/close", {}),
    "expect unknown key": _set("timeline/12/expect/branches", {}),
    "expect bad status": _set("timeline/12/expect/statuses/patrol", "done"),
    "expect bad escalation": _set("timeline/12/expect/escalations", ["patrol_on_scene"]),
    "expect held as a string": _set("timeline/12/expect/held", "no"),
}


@pytest.mark.parametrize("mutate", REJECTED_SCENARIO_VARIANTS.values(), ids=REJECTED_SCENARIO_VARIANTS.keys())
def test_inline_broken_scenario_is_rejected(mutate):
    document = copy.deepcopy(VALID_SCENARIO)
    mutate(document)
    assert errors(SCENARIO_VALIDATOR, document) != []
