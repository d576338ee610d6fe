"""The catalogue as an AsyncAPI 3.0 document, for the split deployment over RabbitMQ.

The broker layout it describes is the AMQP transport's own (eventbus.broker.topology and
eventbus.broker.wire): one durable topic exchange (EVENTBUS['EXCHANGE']); each event version
is published with routing key ``<name>.v<version>`` (``orders.order_placed.v1``), AMQP
``message_id`` = the event id, and the envelope in headers (``x-event-name``,
``x-event-version``, ``x-occurred-at``, ``x-producer``, ``x-correlation-id``,
``x-causation-id``, ``x-aggregate-id``); the body is the payload. Each consuming module
reads one durable queue ``<QUEUE_PREFIX><module>.events`` bound to the events its handlers
subscribe to. A module is a service: the producer sends, each subscriber's module receives.
"""

from typing import Any

from eventbus.broker.topology import queue_name, routing_key
from eventbus.conf import bus_settings
from eventbus.contracts.catalog import CatalogEntry
from eventbus.contracts.schema_lock import event_schema

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
SERVER = "rabbitmq"

Document = dict[str, Any]


def envelope_headers(name: str, version: int, producer: str) -> Document:
    """The JSON Schema of the AMQP headers that carry the envelope."""
    return {
        "type": "object",
        "properties": {
            "x-event-name": {"type": "string", "const": name},
            "x-event-version": {"type": "integer", "const": version},
            "x-occurred-at": {"type": "string", "format": "date-time"},
            "x-producer": {"type": "string", "const": producer},
            "x-correlation-id": {
                "type": "string",
                "description": "The request or command that started the work.",
            },
            "x-causation-id": {
                "type": "string",
                "description": (
                    "The id (a UUID) of the event whose handler published this one; "
                    "empty otherwise."
                ),
            },
            "x-aggregate-id": {
                "type": "string",
                "description": (
                    "The entity the event is about, for per-aggregate order; empty when none."
                ),
            },
        },
        "required": [
            "x-event-name",
            "x-event-version",
            "x-occurred-at",
            "x-producer",
            "x-correlation-id",
            "x-causation-id",
            "x-aggregate-id",
        ],
    }


def _hoisted_schema(key: str, schema: Document, schemas: Document) -> Document:
    """Move the schema's ``$defs`` to components/schemas as ``<key>.<Def>`` and point its
    references there (a ``#/$defs/...`` reference would resolve against the document)."""
    prefix = f"#/components/schemas/{key}."

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (
                    prefix + v.removeprefix("#/$defs/")
                    if k == "$ref" and isinstance(v, str)
                    else rewrite(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    for def_name, definition in schema.get("$defs", {}).items():
        schemas[f"{key}.{def_name}"] = rewrite(definition)
    hoisted: Document = rewrite({k: v for k, v in schema.items() if k != "$defs"})
    return hoisted


def _summary(entry: CatalogEntry) -> str:
    doc = (entry.cls.__doc__ or "") if entry.cls is not None else ""
    return " ".join(doc.split()) or f"{entry.name} version {entry.version}."


def render_asyncapi(
    entries: list[CatalogEntry],
    *,
    title: str = "Event bus",
    version: str = "1.0.0",
    host: str = "localhost:5672",
) -> Document:
    """The AsyncAPI 3.0 document of ``entries``: the AMQP server, one channel per event
    version, its message (payload schema and envelope headers) and, per service, a send
    operation for the producer and a receive operation for each consuming module."""
    channels: Document = {}
    operations: Document = {}
    messages: Document = {}
    schemas: Document = {}
    for entry in entries:
        key = routing_key(entry.name, entry.version)
        if entry.cls is not None:
            schema = event_schema(entry.cls)
            schemas[key] = _hoisted_schema(key, schema, schemas)
        else:
            schemas[key] = {"type": "object"}
        messages[key] = {
            "name": entry.name,
            "title": f"{entry.name} v{entry.version}",
            "summary": _summary(entry),
            "contentType": "application/json",
            "headers": envelope_headers(entry.name, entry.version, entry.producer),
            "payload": {"$ref": f"#/components/schemas/{key}"},
            "correlationId": {
                "description": "Shared by every event one request or command caused.",
                "location": "$message.header#/x-correlation-id",
            },
            "tags": [{"name": entry.producer}],
            "bindings": {"amqp": {"messageType": key, "bindingVersion": AMQP_BINDING_VERSION}},
            "x-event-version": entry.version,
            "x-externalised": entry.externalised,
        }
        consumers = entry.subscriber_modules
        channels[key] = {
            "address": key,
            "title": f"{entry.name} v{entry.version}",
            "description": (
                f"Sent by {entry.producer}; received by "
                f"{', '.join(consumers) or 'no service yet'}. The AMQP message_id is the "
                "event id (a UUIDv7)."
            ),
            "servers": [{"$ref": f"#/servers/{SERVER}"}],
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": bus_settings.EXCHANGE,
                        "type": "topic",
                        "durable": True,
                        "autoDelete": False,
                        "vhost": "/",
                    },
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
        message_ref = [{"$ref": f"#/channels/{key}/messages/{key}"}]
        operations[f"{entry.producer}.sends.{key}"] = {
            "action": "send",
            "title": f"{entry.producer} publishes {key}",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": message_ref,
            "tags": [{"name": entry.producer}],
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": AMQP_BINDING_VERSION}},
        }
        for module in consumers:
            handlers = [s.handler for s in entry.subscriptions if s.module == module]
            operations[f"{module}.receives.{key}"] = {
                "action": "receive",
                "title": f"{module} receives {key}",
                "description": (
                    f"From the durable queue {queue_name(module)}, bound to routing key "
                    f"{key}; handled by {', '.join(handlers)}. Acknowledged after the "
                    "handler's transaction commits."
                ),
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": message_ref,
                "tags": [{"name": module}],
                "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
                "x-queue": queue_name(module),
            }
    services = sorted(
        {e.producer for e in entries} | {m for e in entries for m in e.subscriber_modules}
    )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Every event the modules publish, as sent over RabbitMQ in split mode (each "
                f"module its own service). Services: {', '.join(services)}. Exchange "
                f"'{bus_settings.EXCHANGE}' (topic, durable); routing key '<event name>.v<version>'."
            ),
            "tags": [{"name": s, "description": f"the {s} service"} for s in services],
        },
        "defaultContentType": "application/json",
        "servers": {
            SERVER: {
                "host": host,
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "RabbitMQ: the broker between the services in split mode.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
