"""The official Razorpay Python SDK against Kassa's Razorpay sandbox.

Usage: python razorpay_sdk.py BASE_URL KEY_ID KEY_SECRET WEBHOOK_SECRET
Run by crates/server/tests/psp_sdks.rs; exits non-zero on the first failed check.
"""
import base64
import html
import json
import re
import sys
import urllib.parse
import urllib.request

import razorpay

base_url, key_id, key_secret, webhook_secret = sys.argv[1:5]
client = razorpay.Client(auth=(key_id, key_secret), base_url=base_url)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


# Orders: create, fetch, list with the receipt filter, edit notes.
order = client.order.create({"amount": 50000, "currency": "INR", "receipt": "sdk_rcpt_1", "notes": {"shop": "tea"}})
check(order["id"].startswith("order_") and order["entity"] == "order", "order.create answers an order entity")
check((order["amount"], order["amount_paid"], order["amount_due"], order["status"], order["attempts"]) == (50000, 0, 50000, "created", 0),
      "a new order is created with nothing paid")
check(client.order.fetch(order["id"])["receipt"] == "sdk_rcpt_1", "order.fetch")
listed = client.order.all({"receipt": "sdk_rcpt_1"})
check(listed["entity"] == "collection" and listed["count"] == 1 and listed["items"][0]["id"] == order["id"], "order.all filters by receipt")
check(client.order.all({"receipt": "nobody"})["count"] == 0, "order.all with an unknown receipt is empty")
try:
    client.order.all({"count": 500})
    check(False, "count above 100 is refused")
except razorpay.errors.BadRequestError:
    check(True, "count above 100 raises BadRequestError")
check(client.order.edit(order["id"], {"notes": {"shop": "coffee"}})["notes"] == {"shop": "coffee"}, "order.edit changes notes")

# A card payment, server to server, then the shopper's authentication on the sandbox's page.
payment = client.payment.createPaymentJson({
    "amount": 50000, "currency": "INR", "order_id": order["id"], "email": "a@b.in", "contact": "9999999999",
    "method": "card", "callback_url": "https://shop.example/callback", "ip": "127.0.0.1", "user_agent": "razorpay-sdk-test",
    "referer": "https://shop.example/checkout",
    "card": {"number": "4111111111111111", "expiry_month": "12", "expiry_year": "2039", "cvv": "123", "name": "A Shopper"},
})
payment_id = payment["razorpay_payment_id"]
redirect = [n for n in payment["next"] if n["action"] == "redirect"][0]["url"]
page = urllib.request.urlopen(redirect).read().decode()
check("One-time password" in page, "the authentication page asks for the OTP")
check(client.order.fetch(order["id"])["status"] == "attempted", "an order with a payment attempt is attempted")
form = urllib.parse.urlencode({"otp": "123456", "action": "submit"}).encode()
answer = urllib.request.urlopen(urllib.request.Request(redirect, data=form)).read().decode()
fields = {html.unescape(k): html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', answer)}
check(set(fields) == {"razorpay_payment_id", "razorpay_order_id", "razorpay_signature"}, "the callback carries the signed triple")
check(client.utility.verify_payment_signature(fields) is True, "utility.verify_payment_signature accepts the sandbox's signature")
forged = dict(fields, razorpay_signature="0" * 64)
try:
    client.utility.verify_payment_signature(forged)
    check(False, "a forged signature is refused")
except razorpay.errors.SignatureVerificationError:
    check(True, "a forged signature raises SignatureVerificationError")

paid = client.order.fetch(order["id"])
check((paid["status"], paid["amount_paid"], paid["amount_due"], paid["attempts"]) == ("paid", 50000, 0, 1), "the order is paid")
payments = client.order.payments(order["id"])
check(payments["count"] == 1 and payments["items"][0]["status"] == "captured", "order.payments lists the captured payment")
fetched = client.payment.fetch(payment_id)
check(fetched["captured"] is True and fetched["order_id"] == order["id"] and fetched["method"] == "card", "payment.fetch")
check(any(p["id"] == payment_id for p in client.payment.all({"count": 50})["items"]), "payment.all lists it")

# One success per order.
try:
    client.payment.createPaymentJson({"amount": 50000, "currency": "INR", "order_id": order["id"], "method": "upi",
                                      "vpa": "success@kassa", "callback_url": "https://shop.example/callback",
                                      "ip": "127.0.0.1", "user_agent": "razorpay-sdk-test"})
    check(False, "a paid order takes no second payment")
except razorpay.errors.BadRequestError as e:
    check("already been paid" in str(e), "a paid order takes no second payment (BadRequestError)")

# Refunds: partial, fetched, listed; more than what is left is refused.
refund = client.payment.refund(payment_id, {"amount": 20000, "receipt": "sdk_refund_1"})
check(refund["entity"] == "refund" and refund["amount"] == 20000 and refund["status"] == "processed", "payment.refund")
check(client.refund.fetch(refund["id"])["payment_id"] == payment_id, "refund.fetch")
check(client.payment.fetch_multiple_refund(payment_id)["count"] == 1, "payment.fetch_multiple_refund")
check(client.payment.fetch_refund_id(payment_id, refund["id"])["id"] == refund["id"], "payment.fetch_refund_id")
check(any(r["id"] == refund["id"] for r in client.refund.all()["items"]), "refund.all")
check(client.payment.fetch(payment_id)["amount_refunded"] == 20000, "the payment shows what was refunded")
try:
    client.payment.refund(payment_id, {"amount": 40000})
    check(False, "a refund above what is left is refused")
except razorpay.errors.BadRequestError:
    check(True, "a refund above what is left raises BadRequestError")

# Webhooks the sandbox sent (payment.captured, order.paid) verify with the SDK.
req = urllib.request.Request(f"{base_url}/v1/sandbox/webhooks")
req.add_header("Authorization", "Basic " + base64.b64encode(f"{key_id}:{key_secret}".encode()).decode())
hooks = json.loads(urllib.request.urlopen(req).read())["items"]
events = {h["event"] for h in hooks}
check({"payment.captured", "order.paid"} <= events, "the sandbox sent payment.captured and order.paid")
for h in hooks:
    check(client.utility.verify_webhook_signature(h["body"], h["signature"], webhook_secret) is True,
          f"utility.verify_webhook_signature accepts {h['event']}")
    check(json.loads(h["body"])["payload"]["payment"]["entity"]["id"] == payment_id, f"{h['event']} names the payment")

# Manual capture: an order with payment_capture 0 leaves the payment authorized until payment.capture.
held = client.order.create({"amount": 10000, "currency": "INR", "receipt": "sdk_rcpt_2", "payment_capture": 0})
pay = client.payment.createPaymentJson({"amount": 10000, "currency": "INR", "order_id": held["id"], "method": "netbanking", "bank": "HDFC",
                                        "callback_url": "https://shop.example/callback", "ip": "127.0.0.1", "user_agent": "razorpay-sdk-test"})
redirect = [n for n in pay["next"] if n["action"] == "redirect"][0]["url"]
urllib.request.urlopen(urllib.request.Request(redirect, data=urllib.parse.urlencode({"action": "approve"}).encode())).read()
check(client.payment.fetch(pay["razorpay_payment_id"])["status"] == "authorized", "with payment_capture 0 the payment stays authorized")
check(client.order.fetch(held["id"])["status"] == "attempted", "and its order is not paid yet")
captured = client.payment.capture(pay["razorpay_payment_id"], 10000, {"currency": "INR"})
check(captured["status"] == "captured" and client.order.fetch(held["id"])["status"] == "paid", "payment.capture captures it and pays the order")
try:
    client.payment.capture(pay["razorpay_payment_id"], 10000, {"currency": "INR"})
    check(False, "a captured payment cannot be captured again")
except razorpay.errors.BadRequestError:
    check(True, "capturing twice raises BadRequestError")

# The SDK's own errors: bad amounts, wrong credentials, unknown ids.
for bad in (50, 0):
    try:
        client.order.create({"amount": bad, "currency": "INR"})
        check(False, f"amount {bad} is refused")
    except razorpay.errors.BadRequestError as e:
        check("at least INR 1.00" in str(e), f"amount {bad} raises BadRequestError")
try:
    razorpay.Client(auth=(key_id, "wrong"), base_url=base_url).order.all()
    check(False, "wrong credentials are refused")
except razorpay.errors.BadRequestError as e:
    check("Authentication failed" in str(e), "wrong credentials raise BadRequestError: Authentication failed")
try:
    client.order.fetch("order_DoesNotExist00")
    check(False, "an unknown order id is refused")
except razorpay.errors.BadRequestError as e:
    check("does not exist" in str(e), "an unknown id raises BadRequestError")
print("razorpay SDK: all checks passed")
