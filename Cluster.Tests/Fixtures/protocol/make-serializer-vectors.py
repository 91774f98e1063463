#!/usr/bin/env python3
"""Writes serializer-vectors.json: Celery 5.2.6 task bodies as kombu serializes and compresses them.

Run with Debian's python3-celery, python3-kombu, python3-msgpack, python3-yaml and python3-brotli:

    /usr/bin/python3 Cluster.Tests/Fixtures/protocol/make-serializer-vectors.py > Cluster.Tests/Fixtures/protocol/serializer-vectors.json
"""
import base64
import json
import sys

import celery
import kombu
import msgpack
import yaml
from celery import Celery
from kombu import compression, serialization

app = Celery('vectors', set_as_current=False)

CASES = [
    ('ints', (0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1,
              -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63), {}),
    ('floats', (1.0, 1e-05, 1.5, -2.25, 1e+16, 123456.789, 0.1), {}),
    ('strings', ('', 'a' * 31, 'b' * 32, 'c' * 255, 'd' * 256, 'héllo 😀', 'yes', 'null', '1e3', '0x10', 'tab\t"q"'),
     {'k': 'v'}),
    ('nested', ([1, [2, [3, {}]]], {'a': None, 'b': True, 'c': False}),
     {'x': [1, 2.5, 'three'], 'y': {'z': None}, 'list': list(range(20))}),
    ('add', (2, 2), {}),
]


def body_for(args, kwargs):
    message = app.amqp.as_task_v2('0f4e0d2c-3e1a-4b8e-9a40-1c2d3e4f5a6b', 'tasks.echo', args=args, kwargs=kwargs)
    return message.body


def main():
    cases = []
    for name, args, kwargs in CASES:
        body = body_for(args, kwargs)
        case = {'name': name}
        for serializer in ('json', 'msgpack', 'yaml'):
            content_type, content_encoding, data = serialization.dumps(body, serializer=serializer)
            raw = data if isinstance(data, bytes) else data.encode('utf-8')
            case[serializer] = {
                'content_type': content_type,
                'content_encoding': content_encoding,
                'body': base64.b64encode(raw).decode('ascii'),
            }
        json_body = case['json']['body']
        case['compressed'] = {}
        for method in ('zlib', 'bzip2', 'brotli'):
            data, header = compression.compress(base64.b64decode(json_body), method)
            case['compressed'][method] = {'compression': header, 'body': base64.b64encode(data).decode('ascii')}
        cases.append(case)
    json.dump({
        'description': 'Task bodies of Celery %s app.amqp.as_task_v2, serialized by kombu %s (msgpack %s, PyYAML %s) and compressed by '
                       'kombu.compression; bodies are base64. Made by make-serializer-vectors.py.'
                       % (celery.__version__, kombu.__version__, '.'.join(map(str, msgpack.version)), yaml.__version__),
        'cases': cases,
    }, sys.stdout, indent=1)
    sys.stdout.write('\n')


main()
