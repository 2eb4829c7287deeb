"""Seeds the local server before schemathesis runs (infra/test.sh, step 5): the organisation,
clinic, practitioner, patient and thread the examples of docs/openapi.yaml name, so fuzzed
requests reach the handlers' logic and not only their 404s.

Usage: fuzz_seed.py BASE_URL SERVICE_TOKEN
"""

import json
import sys
import urllib.request

url, token = sys.argv[1], sys.argv[2]
at = "2026-01-10T09:00:00Z"


def ev(i, kind, data):
    return {"id": f"fuzz-seed-{i}", "type": kind, "occurred_at": at, "data": data}


place = {
    "state": "Victoria",
    "specialty": "General practice",
    "contract": "Enterprise 2025",
    "created_at": "2024-01-01T00:00:00Z",
}
events = [
    ev(1, "organisation.upserted", {"org_id": "org-1", "name": "Org One", **place}),
    ev(2, "clinic.upserted", {"clinic_id": "clinic-1", "org_id": "org-1", "name": "Clinic One",
                              "subdomain": "clinic-1", "waiting_area_status": "open", **place}),
    ev(3, "practitioner.upserted", {"practitioner_id": "prac-1", "name": "Dr. One",
                                    "specialties": ["Cardiology"], "approval": "approved",
                                    "price": {"amount_minor": 5000, "currency": "EUR"},
                                    "has_scheduling_practice": False}),
    ev(4, "patient.upserted", {"patient_id": "pat-1", "name": "Pat One"}),
    ev(5, "thread.created", {"thread_id": "thr-1", "patient_ids": ["pat-1"],
                             "practitioner_ids": ["prac-1"]}),
    ev(6, "account.upserted", {"account_id": "acc-1", "org_id": "org-1",
                               "email": "acc-1@org-one.example", "name": "Org One Admin",
                               "platform_role": "standard", "access_level": "full",
                               "created_at": "2024-01-01T00:00:00Z"}),
]
req = urllib.request.Request(
    url + "/ingest/events",
    data=json.dumps({"events": events}).encode(),
    headers={"authorization": "Bearer " + token, "content-type": "application/json"},
)
with urllib.request.urlopen(req) as resp:
    report = json.load(resp)
assert report["accepted"] == len(events), report
print("seeded", report["accepted"], "events")
