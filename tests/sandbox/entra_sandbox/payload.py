"""The JSON body of a Graph write, read as an OData service reads it: an object, its annotations, its parameters.

Shared by the job actions (graph_api.py: restart; credentials.py: validateCredentials) and the secrets PUT.
"""

import json

from .errors import GraphError


def json_object(body, what):
    """The decoded JSON object of a request body; 400 as Graph answers an empty, unreadable or non-object body.

    what: the parameter named when the body is JSON but not an object.
    """
    if not body:
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header "
                         "is set and payload is of valid JSON format.") from exc
    if not isinstance(payload, dict):
        raise GraphError(400, "BadRequest", "The parameter '%s' must be an object." % what)
    return payload


def without_annotations(payload, odata_type):
    """The payload without its OData annotations ("@odata.type", "name@odata.type"), which OData services accept.

    A "@odata.type" must name the expected type (`odata_type`; None: an action's parameters, which have none).
    """
    named = payload.get("@odata.type")
    if named is not None:
        if odata_type is None or not isinstance(named, str) or named.lstrip("#").lower() != odata_type.lower():
            raise GraphError(400, "BadRequest", "A type named '%s' could not be resolved by the model. When a model is "
                             "available, each type name must resolve to a valid type." % named)
    return {name: value for name, value in payload.items() if "@" not in name}


def action_parameters(body, action, allowed, what):
    """The parameters of an OData action's body (annotations dropped); 400 for a parameter the action does not have."""
    payload = without_annotations(json_object(body, what), None)
    extra = set(payload) - set(allowed)
    if extra:
        raise GraphError(400, "BadRequest", "The parameter '%s' in the request payload is not a valid parameter for "
                         "the operation '%s'." % (sorted(extra)[0], action))
    return payload


def unknown_property(name, odata_type):
    """The 400 OData answers for a property its type does not define."""
    return GraphError(400, "BadRequest", "The property '%s' does not exist on type '%s'. Make sure to only use property "
                      "names that are defined by the type or mark the type as open type." % (name, odata_type))
