"""The AWX credential type in extensions/awx/credential_type.yml, checked against what the collection reads.

AWX sets the environment variables of the injectors for every job that uses a
credential of this type. Each variable must be one that the modules or
playbooks/enroll.yml read, and each template may use only the input ids.
"""

import os
import re
import types

import pytest
import yaml
from jinja2 import StrictUndefined, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.qualys.certview.plugins.module_utils import _connection

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CREDENTIAL_TYPE = os.path.join(ROOT, "extensions", "awx", "credential_type.yml")
ENROLL = os.path.join(ROOT, "playbooks", "enroll.yml")
AWX_GUIDE = os.path.join(ROOT, "docs", "docsite", "rst", "awx.rst")

# Every variable that the modules read in place of a connection option: ENV_GATEWAY_URL, ENV_PLATFORM and the others.
MODULE_ENV = frozenset(value for name, value in vars(_connection).items() if name.startswith("ENV_"))
# The endpoint and the requesting account, without which a job cannot reach the API.
CONNECTION_ENV = (_connection.ENV_PLATFORM, _connection.ENV_GATEWAY_URL, _connection.ENV_USERNAME, _connection.ENV_PASSWORD)

# Keys that AWX accepts in an input field of a custom credential type, and the field types it accepts.
AWX_FIELD_KEYS = frozenset(("id", "label", "type", "help_text", "choices", "format", "multiline", "secret", "ask_at_runtime", "default"))
AWX_FIELD_TYPES = ("string", "boolean")
AWX_STRING_ONLY_KEYS = ("choices", "multiline", "format", "secret")
# AWX reserves the name "tower" for the namespace that contains the paths of the files it writes for file injectors.
AWX_NAMESPACE = "tower"
NAME_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SECRET_ENV_PATTERN = re.compile(r"PASSWORD|TOKEN|SECRET")


def enroll_env_names():
    """Return the environment variables that playbooks/enroll.yml reads with the env lookup."""
    with open(ENROLL, encoding="utf-8") as stream:
        text = stream.read()
    return frozenset(re.findall(r"lookup\(\s*'ansible\.builtin\.env'\s*,\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*\)", text))


def guide_yaml_blocks():
    """Return the parsed content of every YAML code block in the AWX guide."""
    with open(AWX_GUIDE, encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        if not re.match(r"^\.\. code-block:: yaml(\+jinja)?$", lines[index]):
            index += 1
            continue
        index += 1
        body = []
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith("  ")):
            body.append(lines[index][2:])
            index += 1
        blocks.append(yaml.safe_load("\n".join(body)))
    return blocks


@pytest.fixture(scope="module")
def credential_type():
    with open(CREDENTIAL_TYPE, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


@pytest.fixture(scope="module")
def fields(credential_type):
    return dict((field["id"], field) for field in credential_type["inputs"]["fields"])


def injector_templates(credential_type):
    """Return (kind, name, template) for every env and file injector."""
    injectors = credential_type["injectors"]
    templates = [("env", name, template) for name, template in injectors["env"].items()]
    templates += [("file", name, template) for name, template in injectors.get("file", {}).items()]
    return templates


def file_injector_names(credential_type):
    """Return the names under tower.filename: "ca_bundle" for the file injector "template.ca_bundle"."""
    return frozenset(label.split(".", 1)[1] for label in credential_type["injectors"].get("file", {}) if "." in label)


def awx_namespace_paths(template):
    """Return the attribute paths used under the tower namespace, such as ("filename", "ca_bundle")."""
    paths = []
    for node in ImmutableSandboxedEnvironment().parse(template).find_all(nodes.Getattr):
        chain = []
        while isinstance(node, nodes.Getattr):
            chain.insert(0, node.attr)
            node = node.node
        if isinstance(node, nodes.Name) and node.name == AWX_NAMESPACE:
            paths.append(tuple(chain))
    # A chain such as tower.filename.ca_bundle is also found as its prefix tower.filename, so only the longest chains are kept.
    return [path for path in paths if not any(other != path and other[: len(path)] == path for other in paths)]


def test_credential_type_metadata(credential_type):
    assert credential_type["name"].strip()
    assert credential_type["description"].strip()
    # A cloud credential goes to a job template next to the machine credential of the hosts.
    assert credential_type["kind"] == "cloud"
    assert sorted(credential_type) == ["description", "injectors", "inputs", "kind", "name"]


def test_enroll_playbook_reads_approver_env():
    assert enroll_env_names() == {"CERTVIEW_APPROVER_USERNAME", "CERTVIEW_APPROVER_PASSWORD"}


def test_injected_env_read_by_collection(credential_type):
    known = MODULE_ENV | enroll_env_names()
    unknown = sorted(set(credential_type["injectors"]["env"]) - known)
    assert unknown == [], "injected variables that neither the modules nor playbooks/enroll.yml read: %s" % unknown


@pytest.mark.parametrize("name", CONNECTION_ENV + ("CERTVIEW_APPROVER_USERNAME", "CERTVIEW_APPROVER_PASSWORD"))
def test_env_has_injector(credential_type, name):
    assert name in credential_type["injectors"]["env"]


def test_injectors_reference_inputs(credential_type, fields):
    environment = ImmutableSandboxedEnvironment()
    files = file_injector_names(credential_type)
    for kind, name, template in injector_templates(credential_type):
        variables = meta.find_undeclared_variables(environment.parse(template))
        unknown = sorted(variables - set(fields) - {AWX_NAMESPACE})
        assert unknown == [], "%s injector %s uses names that are no input id: %s" % (kind, name, unknown)
        assert variables & set(fields), "%s injector %s uses no input" % (kind, name)
        for path in awx_namespace_paths(template):
            assert len(path) == 2, "%s injector %s uses tower.%s" % (kind, name, ".".join(path))
            assert path[0] == "filename", "%s injector %s uses tower.%s" % (kind, name, ".".join(path))
            assert path[1] in files, "%s injector %s names the file %s, which no file injector writes" % (kind, name, path[1])


def test_injectors_pass_awx_template_check(credential_type, fields):
    """Render every injector as AWX does when a credential type is saved: with StrictUndefined and a value for every input."""
    namespace = dict((field_id, "EXAMPLE") for field_id in fields)
    filenames = types.SimpleNamespace(**dict((name, "EXAMPLE_FILENAME") for name in file_injector_names(credential_type)))
    namespace[AWX_NAMESPACE] = types.SimpleNamespace(filename=filenames)
    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, name, template in injector_templates(credential_type):
        rendered = environment.from_string(template).render(**namespace)
        assert rendered.isascii(), "%s injector %s renders non-ASCII text" % (kind, name)


def test_env_injector_names_allowed(credential_type):
    for name in credential_type["injectors"]["env"]:
        assert NAME_PATTERN.match(name), name
        # AWX rejects injected variables that start with ANSIBLE_, because they change the Ansible configuration.
        assert not name.startswith("ANSIBLE_"), name


def test_file_injector_labels(credential_type):
    for label in credential_type["injectors"].get("file", {}):
        assert re.match(r"^template(\.[a-zA-Z_][a-zA-Z0-9_]*)?$", label), label


def test_input_fields_follow_awx_schema(credential_type, fields):
    field_list = credential_type["inputs"]["fields"]
    assert sorted(credential_type["inputs"]) == ["fields", "required"]
    assert len(fields) == len(field_list), "input ids are not unique"
    for field in field_list:
        assert set(field) <= AWX_FIELD_KEYS, "%s has keys that AWX rejects: %s" % (field["id"], sorted(set(field) - AWX_FIELD_KEYS))
        assert NAME_PATTERN.match(field["id"]), field["id"]
        assert field["id"] != AWX_NAMESPACE
        assert field["label"].strip(), field["id"]
        assert field.get("type", "string") in AWX_FIELD_TYPES, field["id"]
        if field.get("type", "string") != "string":
            assert not set(field) & set(AWX_STRING_ONLY_KEYS), "%s is no string but has %s" % (field["id"], sorted(set(field) & set(AWX_STRING_ONLY_KEYS)))


def test_required_inputs(credential_type, fields):
    required = credential_type["inputs"]["required"]
    assert set(required) <= set(fields)
    assert set(required) == {"username", "password"}


def test_secret_inputs_marked_secret(credential_type, fields):
    for field_id, field in fields.items():
        if "password" in field_id:
            assert field.get("secret") is True, "%s is not marked secret" % field_id
    environment = ImmutableSandboxedEnvironment()
    for name, template in credential_type["injectors"]["env"].items():
        if SECRET_ENV_PATTERN.search(name):
            for field_id in meta.find_undeclared_variables(environment.parse(template)) & set(fields):
                assert fields[field_id].get("secret") is True, "%s fills %s but is not marked secret" % (field_id, name)


def test_non_secret_inputs_visible(fields):
    # AWX shows the values of inputs that are not secret, so that a user can check the account and endpoint.
    for field_id in ("platform", "gateway_url", "username", "approver_username"):
        assert not fields[field_id].get("secret", False), field_id


def test_platform_choices_match_modules(fields):
    # AWX stores the first choice for an empty platform, so the order matters: the modules' table starts with US1.
    assert fields["platform"]["choices"] == list(_connection.PLATFORMS)
    assert sorted(fields["platform"]["choices"]) == sorted(_connection.connection_argument_spec()["platform"]["choices"])


@pytest.mark.parametrize("key", ["inputs", "injectors"])
def test_guide_shows_credential_type(credential_type, key):
    # docs/docsite/rst/awx.rst shows the inputs and the injectors to paste into the AWX web UI.
    assert credential_type[key] in guide_yaml_blocks(), "awx.rst shows no YAML block equal to the %s of %s" % (key, CREDENTIAL_TYPE)
