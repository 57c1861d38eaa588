"""paytmchecksum (PyPI) against Kassa's Paytm sandbox: seed 004's Create Order with every
result code the issue names, the signed answers verified, and the status API.

Usage: python paytm_checksum.py BASE_URL MID MERCHANT_KEY
"""
import json
import sys
import urllib.request

from paytmchecksum import PaytmChecksum

base_url, mid, key = sys.argv[1:4]


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


def post(path, body, signature=None, raw=None):
    """Posts {head, body} as the Paytm SDKs do; answers (parsed, body text as sent)."""
    if raw is None:
        body_text = json.dumps(body)
        sig = signature if signature is not None else PaytmChecksum.generateSignature(body_text, key)
        raw = '{"body": ' + body_text + ', "head": {"channelId": "WEB", "requestTimeStamp": "1700000000000", "signature": "' + sig + '"}}'
    req = urllib.request.Request(base_url + path, data=raw.encode(), headers={"Content-Type": "application/json"})
    text = urllib.request.urlopen(req).read().decode()
    check(text.isascii() and ": " not in text, f"{path}: the answer is compact ASCII")
    answer = json.loads(text)
    # The body's exact text, as the official SDK slices it out: it is the last member.
    body_text = text[text.index('"body":') + len('"body":'):-1]
    return answer, body_text


def order(order_id, **over):
    body = {"requestType": "PAYMENT", "websiteName": "WEBSTAGING", "mid": mid, "orderId": order_id,
            "txnAmount": {"value": "1.00", "currency": "INR"},
            "userInfo": {"custId": "cus0012", "mobile": "7000000003", "email": "abc@gmail.com", "firstName": "Ravi", "lastName": "Ranjan"},
            "callbackUrl": "https://shop.example/paytm/callback", "extendInfo": {"udf1": "abc", "mercUnqRef": "", "comments": ""}}
    body.update(over)
    return body


def create(order_id, body, query_mid=None, query_order=None, **kw):
    path = f"/aoa-acquiring-biz/v2/order?mid={query_mid or mid}&orderId={query_order or order_id}"
    return post(path, body, **kw)


answer, text = create("Ravi1366", order("Ravi1366"))
info = answer["body"]["resultInfo"]
check((info["resultStatus"], info["resultCode"], info["resultMsg"]) == ("S", "0000", "Success"), "Create Order succeeds (0000)")
check(len(answer["body"]["txnToken"]) > 20, "the answer carries a txnToken")
check(PaytmChecksum.verifySignature(text, key, answer["head"]["signature"]) is True, "the answer's head.signature verifies")
check(PaytmChecksum.verifySignature(text.replace("0000", "0001"), key, answer["head"]["signature"]) is False, "a changed answer does not")

cases = [
    ("a wrong checksum", "2005", lambda: create("Ord2005", order("Ord2005"), signature=PaytmChecksum.generateSignature("{}", key))),
    ("a repeated orderId", "324", lambda: create("Ravi1366", order("Ravi1366"))),
    ("a mid differing from the query", "2013", lambda: create("Ord2013", order("Ord2013"), query_mid="OTHERMID")),
    ("an orderId differing from the query", "2014", lambda: create("Ord2014", order("Ord2014"), query_order="Other")),
    ("a bad amount", "2007", lambda: create("Ord2007", order("Ord2007", txnAmount={"value": "-1", "currency": "INR"}))),
    ("an unknown mid", "2006", lambda: create("Ord2006", order("Ord2006", mid="NOSUCHMID"), query_mid="NOSUCHMID")),
    ("an illegal requestType", "1011", lambda: create("Ord1011", order("Ord1011", requestType="PAYMENT1"))),
    ("a missing websiteName", "1007", lambda: create("Ord1007", {k: v for k, v in order("Ord1007").items() if k != "websiteName"})),
    ("an invalid currency", "1001", lambda: create("Ord1001", order("Ord1001", txnAmount={"value": "1.00", "currency": "USD"}))),
    ("a missing custId", "1012", lambda: create("Ord1012", order("Ord1012", userInfo={"mobile": "7000000003"}))),
    ("an invalid orderId", "2012", lambda: create("Bad Order", order("Bad Order"), query_order="Bad%20Order")),
    ("a body that is not {head, body}", "2222", lambda: post(f"/aoa-acquiring-biz/v2/order?mid={mid}&orderId=x", None, raw="[1,2]")),
    ("the sandbox's system error", "501", lambda: create("SYSERR1", order("SYSERR1"))),
]
for what, code, call in cases:
    answer, text = call()
    info = answer["body"]["resultInfo"]
    check((info["resultStatus"], info["resultCode"]) == ("F", code), f"{what} gets {code} ({info['resultMsg']})")
    if code == "1011":
        check(info["resultMsg"] == "Parameter '[body->requestType]' has invalid value '[PAYMENT1]'", "1011's message names the field")

# Transaction status of the created, unpaid order: PENDING, signed.
answer, text = post("/v3/order/status", {"mid": mid, "orderId": "Ravi1366"})
check(PaytmChecksum.verifySignature(text, key, answer["head"]["signature"]) is True, "the status answer's signature verifies")
check(answer["body"]["resultInfo"]["resultStatus"] == "PENDING" and answer["body"]["txnAmount"] == "1.00", "an unpaid order is PENDING")
answer, _ = post("/v3/order/status", {"mid": mid, "orderId": "Ravi1366"}, signature=PaytmChecksum.generateSignature("x", key))
check(answer["body"]["resultInfo"]["resultCode"] == "2005", "a status request with a wrong checksum gets 2005")
answer, _ = post("/v3/order/status", {"mid": mid, "orderId": "Nobody"})
check(answer["body"]["resultInfo"]["resultCode"] == "334", "an unknown order gets 334")
print("paytmchecksum: all checks passed")
