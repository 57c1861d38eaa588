"""Independent implementations for tests/crosscheck.rs.

Reads a JSON list of cases on stdin, answers a JSON list on stdout. Uses the
seed's Python return-URL algorithm (seed 000, ported to Python 3's
urllib.parse.quote_plus) and the reference packages from PyPI: `razorpay` and
`paytmchecksum`.
"""
import base64, hashlib, hmac, json, sys
from urllib.parse import quote_plus

import razorpay
from paytmchecksum import PaytmChecksum


def juspay_signature(params, key):
    encoded_sorted = []
    for k in sorted(params.keys()):
        encoded_sorted.append(quote_plus(k) + '=' + quote_plus(params[k]))
    encoded_string = quote_plus('&'.join(encoded_sorted))
    dig = hmac.new(key.encode(), msg=encoded_string.encode(), digestmod=hashlib.sha256).digest()
    return quote_plus(base64.b64encode(dig).decode())


def razorpay_ok(fn, *args):
    try:
        r = fn(*args)
        return r is None or r is True
    except razorpay.errors.SignatureVerificationError:
        return False


out = []
for case in json.load(sys.stdin):
    kind = case['kind']
    if kind == 'return_url':
        out.append({'signature': juspay_signature(case['params'], case['key'])})
    elif kind == 'razorpay':
        client = razorpay.Client(auth=('key_id', case['secret']))
        out.append({
            'payment_ok': razorpay_ok(client.utility.verify_payment_signature, {
                'razorpay_order_id': case['order_id'],
                'razorpay_payment_id': case['payment_id'],
                'razorpay_signature': case['payment_signature'],
            }),
            'webhook_ok': razorpay_ok(client.utility.verify_webhook_signature,
                                      case['body'], case['webhook_signature'], case['secret']),
        })
    elif kind == 'paytm':
        data = case['params'] if 'params' in case else case['body']
        out.append({
            'ours_ok': PaytmChecksum.verifySignature(dict(data) if isinstance(data, dict) else data,
                                                     case['key'], case['ours']),
            'theirs': PaytmChecksum.generateSignature(dict(data) if isinstance(data, dict) else data, case['key']),
        })
json.dump(out, sys.stdout)
