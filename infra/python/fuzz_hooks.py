"""Schemathesis hooks for the negative runs of infra/test.sh, step 5 (loaded through
SCHEMATHESIS_HOOKS, for those runs only).

Path parameters: their documented example (the ids fuzz_seed.py creates), never a generated
value. Schemathesis 3.x cannot break an id parameter (a string of 1 to 128 characters) in a way
that still routes — it gives up on the whole operation after two minutes — and an id that does
not exist only ever meets the 404 in front of the handler. With real ids, the broken query and
body reach the validation they are meant to test; bad ids have their own tests.

Header values: never a control character (other than tab). HTTP has no such value (RFC 9110,
field-value), so the server's HTTP layer refuses the request before any handler — a bare 400
with no body, as API Gateway does in AWS — and the document cannot describe that answer.

One check, `negative_data_rejected`, takes the place of the built-in `negative_data_rejection`.

Both demand a 4xx for every request generated to break the document. The built-in one also
fails when schemathesis 3.x's own negative value is sent as a valid one: for an integer or
boolean query parameter it generates the *string* "1" or "false", which goes on the wire as
`limit=1` or `bom=false` — exactly what a valid client sends, so a 200 is right. This check
reads the query back from the URL actually sent, as the server does (integers, numbers and
booleans from their text), and lets the answer stand only when the request as sent is valid
after all; everything else it judges as the built-in check does.
"""

import re
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import schemathesis
from hypothesis import strategies as st

# The statuses a refused request may get: the built-in check's list (its "5xx" left to
# not_a_server_error, which fails on them anyway) plus 413, the body-size limit (Q1).
REJECTED = {400, 401, 403, 404, 406, 413, 422, 428}

INTEGER = re.compile(r"-?[0-9]+")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _read_as_server(text, schema):
    """The query value `text` as the server reads a parameter of `schema`'s type."""
    kind = schema.get("type")
    if kind == "integer" and INTEGER.fullmatch(text):
        return int(text)
    if kind == "number" and NUMBER.fullmatch(text):
        return float(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _query_valid_as_sent(case, url):
    """Whether the query string of `url` satisfies every query parameter of the operation."""
    sent = {}
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        sent.setdefault(name, []).append(value)
    for parameter in case.operation.query:
        definition = parameter.definition
        schema = definition.get("schema", {})
        values = sent.get(parameter.name)
        if values is None:
            if definition.get("required", False):
                return False
            continue
        if len(values) != 1:
            return False
        if not jsonschema.Draft202012Validator(schema).is_valid(_read_as_server(values[0], schema)):
            return False
    return True


@schemathesis.hook
def before_generate_path_parameters(context, strategy):
    examples = {p.name: p.definition.get("example") for p in context.operation.path_parameters}
    if not examples:
        return strategy
    missing = [name for name, value in examples.items() if value is None]
    if missing:
        raise ValueError(f"{context.operation.verbose_name}: no example for {missing}")
    return st.just(examples)


def _is_field_value(value):
    return not any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in str(value))


@schemathesis.hook
def filter_headers(context, headers):
    return headers is None or all(_is_field_value(v) for v in headers.values())


@schemathesis.check
def negative_data_rejected(ctx, response, case):
    method = case.data_generation_method
    if method is None or not method.is_negative or response.status_code in REJECTED:
        return None
    if response.status_code >= 500:
        return None  # not_a_server_error's finding
    # The metadata marks a part negative even where the operation declares nothing to put
    # in it; only a declared part can carry the negative value (path parameters never do: see
    # above).
    meta = case.meta
    declared = {
        "headers": len(case.operation.headers) > 0,
        "cookies": len(case.operation.cookies) > 0,
        "body": len(case.operation.body) > 0,
    }
    only_query_negative = meta is not None and not any(
        present and getattr(meta, part) is not None and getattr(meta, part).is_negative
        for part, present in declared.items()
    )
    if only_query_negative and _query_valid_as_sent(case, response.request.url):
        return None
    raise AssertionError(
        f"negative data answered {response.status_code}; a refusal is one of {sorted(REJECTED)}"
    )
