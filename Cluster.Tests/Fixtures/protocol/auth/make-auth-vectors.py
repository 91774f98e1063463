#!/usr/bin/env python3
"""Writes auth-vectors.json: task bodies signed by Celery 5.2.6's SecureSerializer (the auth serializer).

The key and certificate beside it are for these tests only; the script makes them when they are missing. Run with
Debian's python3-celery and python3-cryptography:

    cd Cluster.Tests/Fixtures/protocol/auth && /usr/bin/python3 make-auth-vectors.py > auth-vectors.json
"""
import base64
import datetime
import json
import os
import sys

import celery
from celery import Celery
from celery.security.certificate import Certificate, FSCertStore
from celery.security.key import PrivateKey
from celery.security.serialization import SecureSerializer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

KEY, CERT = 'test-key.pem', 'test-cert.pem'
SEPARATOR = b'\x00\x01'

app = Celery('vectors', set_as_current=False)


def make_key_and_certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Several attributes, so that the signer id shows the order Celery joins them in.
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, 'NL'),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'ClusterQueue tests'),
        x509.NameAttribute(NameOID.COMMON_NAME, 'auth serializer vectors'),
    ])
    now = datetime.datetime(2026, 1, 1)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(0x0C1A55E5).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365 * 100))
                   .sign(key, hashes.SHA256()))
    with open(KEY, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(CERT, 'wb') as f:
        f.write(certificate.public_bytes(serialization.Encoding.PEM))


def body_for(args, kwargs):
    return app.amqp.as_task_v2('0f4e0d2c-3e1a-4b8e-9a40-1c2d3e4f5a6b', 'tasks.echo', args=args, kwargs=kwargs).body


def signature_of(payload):
    raw = base64.b64decode(payload)
    start = raw.index(SEPARATOR) + len(SEPARATOR)
    return raw[start:start + 256]


def main():
    if not (os.path.exists(KEY) and os.path.exists(CERT)):
        make_key_and_certificate()
    with open(KEY) as f:
        key = PrivateKey(f.read())
    with open(CERT) as f:
        certificate = Certificate(f.read())
    store = FSCertStore(CERT)
    cases = []
    for name, digest, args, kwargs, want_separator in [
        ('add', 'sha256', (2, 2), {}, False),
        ('unicode-sha512', 'sha512', ('héllo 😀', [1, {'a': None}]), {'big': 2**63 - 1}, False),
        # PSS is randomized: sign until the signature holds the field separator, which must not end the field.
        ('separator-in-signature', 'sha256', (4, 5), {}, True),
    ]:
        serializer = SecureSerializer(key, certificate, store, digest)
        body = body_for(args, kwargs)
        payload = serializer.serialize(body)
        while want_separator and SEPARATOR not in signature_of(payload):
            payload = serializer.serialize(body)
        assert serializer.deserialize(payload) == json.loads(json.dumps(body))
        cases.append({'name': name, 'digest': digest, 'payload': payload,
                      'json': json.dumps(body)})
    json.dump({'celery': celery.__version__, 'signer': certificate.get_id(), 'key': KEY, 'certificate': CERT,
               'cases': cases}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
