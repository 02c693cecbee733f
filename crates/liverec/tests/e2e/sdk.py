#!/usr/bin/env python3
"""Calls one liverec API action through the official Tencent Cloud Python SDK.

usage: sdk.py --endpoint 127.0.0.1:PORT --secret-id ID --secret-key KEY
              [--sign tc3|tc3-get|hmacsha1|hmacsha256] [--client live|common]
              [--version 2018-08-01] [--skew SECONDS] [--language en-US]
              [--method GET|POST] [--https-ca CA.pem]
              ACTION JSON

Prints one JSON line: {"ok": true, "response": {...}} on success, or
{"ok": false, "code": ..., "message": ..., "request_id": ...} for an API error
(exit 0 both); exit 4 on a transport error (message on stderr).
`--client live` (default when the SDK has a model for ACTION) uses the typed
LiveClient; `common` uses CommonClient.call_json. `--skew` shifts the clock the
SDK signs with (e.g. -600 for an expired request). `--https-ca` calls over
HTTPS (HttpProfile protocol "https"), verifying the server against that CA
file (HttpProfile `certification`).
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--secret-id", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--sign", default="tc3", choices=["tc3", "tc3-get", "hmacsha1", "hmacsha256"])
    ap.add_argument("--client", default="auto", choices=["auto", "live", "common"])
    ap.add_argument("--version", default="2018-08-01")
    ap.add_argument("--skew", type=float, default=0.0)
    ap.add_argument("--language", default="zh-CN")
    ap.add_argument("--method", choices=["GET", "POST"])
    ap.add_argument("--https-ca")
    ap.add_argument("action")
    ap.add_argument("params")
    a = ap.parse_args()

    if a.skew:
        real = time.time
        time.time = lambda: real() + a.skew

    from tencentcloud.common import credential
    from tencentcloud.common.common_client import CommonClient
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.live.v20180801 import live_client, models

    method = a.method or ("GET" if a.sign in ("tc3-get", "hmacsha1") else "POST")
    sign_method = {"tc3": "TC3-HMAC-SHA256", "tc3-get": "TC3-HMAC-SHA256",
                   "hmacsha1": "HmacSHA1", "hmacsha256": "HmacSHA256"}[a.sign]
    if a.https_ca:
        hp = HttpProfile(protocol="https", endpoint=a.endpoint, reqMethod=method, reqTimeout=30,
                         certification=a.https_ca)
    else:
        hp = HttpProfile(protocol="http", endpoint=a.endpoint, reqMethod=method, reqTimeout=30)
    cp = ClientProfile(httpProfile=hp, signMethod=sign_method, language=a.language,
                       disable_region_breaker=True)
    cred = credential.Credential(a.secret_id, a.secret_key)
    params = json.loads(a.params)
    use_live = a.client == "live" or (
        a.client == "auto" and a.version == "2018-08-01" and hasattr(models, a.action + "Request"))
    try:
        if use_live:
            client = live_client.LiveClient(cred, "ap-guangzhou", cp)
            req = getattr(models, a.action + "Request")()
            req.from_json_string(json.dumps(params))
            resp = getattr(client, a.action)(req)
            out = json.loads(resp.to_json_string())
        else:
            client = CommonClient("live", a.version, cred, "ap-guangzhou", profile=cp)
            out = client.call_json(a.action, params)["Response"]
        print(json.dumps({"ok": True, "response": out}))
    except TencentCloudSDKException as e:
        code = e.get_code()
        if code in ("ClientNetworkError", "ServerNetworkError"):
            print(f"TRANSPORT {code} {e.get_message()}", file=sys.stderr)
            sys.exit(4)
        print(json.dumps({"ok": False, "code": code, "message": e.get_message(),
                          "request_id": e.get_request_id()}))


if __name__ == "__main__":
    main()
