"""Runs, queue jobs, raw data, transform requests and raw ingest through the API."""

from __future__ import annotations

import json

from app.queue.ops import ClaimScope
from app.services import open_services
from tests.integration.test_web_harness import (
    JIRA_STATUS,
    ClientFactory,
    World,
    owner_rows,
    web,
    web_db_url,
    world,
)
from tests.pipeline import running_worker, wait_until

__all__ = ["web", "web_db_url", "world"]


def status_record(external_id: str, name: str) -> dict[str, object]:
    return {
        "entity_type": "jira_status",
        "external_id": external_id,
        "data": {"id": external_id, "name": name, "statusCategory": {"key": "indeterminate"}},
    }


async def test_runs_list_newest_first_and_show_queue_counts(
    world: World, web: ClientFactory
) -> None:
    viewer = web(world.account("WEX", "viewer").token)
    run_id = world.ids["WEX"]["run_id"]
    listed = (await viewer.get("/api/v1/runs")).json()
    ids = [r["id"] for r in listed["items"]]
    assert run_id in ids and ids == sorted(ids, reverse=True)
    detail = (await viewer.get(f"/api/v1/runs/{run_id}")).json()
    assert detail["trigger"] == "api" and detail["status"] == "running"
    extract = [c for c in detail["queue"] if c["job_type"] == "extract"]
    assert sum(c["jobs"] for c in extract) >= 1
    running = (await viewer.get("/api/v1/runs?status=running")).json()["items"]
    assert all(r["status"] == "running" for r in running)
    bad = await viewer.get("/api/v1/runs?status=sideways")
    assert bad.status_code == 422
    assert bad.json()["errors"][0] == {
        "location": "query",
        "field": "status",
        "message": bad.json()["errors"][0]["message"],
    }


async def test_queue_jobs_filter_and_refuse_impossible_moves(
    world: World, web: ClientFactory
) -> None:
    operator = web(world.account("WEX", "operator").token)
    ids = world.ids["WEX"]
    failed = (await operator.get("/api/v1/queue/jobs?status=failed")).json()["items"]
    assert [j["id"] for j in failed] == [ids["failed_queue_job_id"]]
    assert "payload" not in failed[0]
    detail = (await operator.get(f"/api/v1/queue/jobs/{ids['failed_queue_job_id']}")).json()
    assert detail["payload"] == {"raw_ids": [ids["raw_id"]]}
    of_run = (await operator.get(f"/api/v1/queue/jobs?run_id={ids['run_id']}")).json()["items"]
    assert of_run and all(j["run_id"] == ids["run_id"] for j in of_run)
    cancel_failed = await operator.post(f"/api/v1/queue/jobs/{ids['failed_queue_job_id']}/cancel")
    assert cancel_failed.status_code == 409
    assert "only pending or paused" in cancel_failed.json()["detail"]
    retry_pending = await operator.post(f"/api/v1/queue/jobs/{ids['queue_job_id']}/retry")
    assert retry_pending.status_code == 409
    retried = await operator.post(f"/api/v1/queue/jobs/{ids['failed_queue_job_id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending" and retried.json()["retry_count"] == 0
    [(actor,)] = owner_rows(
        world.url,
        "SELECT actor FROM job_logs WHERE tenant_id = %s ORDER BY id DESC LIMIT 1",
        (world.tenant_ids["WEX"],),
    )
    assert actor.startswith("token:operator token")


async def test_raw_rows_list_without_their_json_and_show_it_on_request(
    world: World, web: ClientFactory
) -> None:
    viewer = web(world.account("WEX", "viewer").token)
    raw_id = world.ids["WEX"]["raw_id"]
    listed = await viewer.get("/api/v1/raw?entity_type=jira_status&processing_status=pending")
    items = listed.json()["items"]
    assert [r["id"] for r in items] == [raw_id]
    assert "raw_data" not in items[0] and items[0]["raw_bytes"] > 0
    assert (await viewer.get("/api/v1/raw?since=2100-01-01T00:00:00Z")).json()["items"] == []
    detail = await viewer.get(f"/api/v1/raw/{raw_id}")
    assert detail.json()["raw_data"] == JIRA_STATUS
    pretty = await viewer.get(f"/api/v1/raw/{raw_id}?pretty=true")
    assert pretty.text.startswith("{\n  ") and json.loads(pretty.text) == detail.json()


async def test_a_transform_request_opens_a_run_of_transform_jobs(
    world: World, web: ClientFactory
) -> None:
    operator = web(world.account("WEX", "operator").token)
    raw_id = world.ids["WEX"]["raw_id"]
    response = await operator.post("/api/v1/transform-requests", json={"ids": [raw_id, raw_id]})
    assert response.status_code == 202
    out = response.json()
    assert out["raw_count"] == 1 and out["transform_jobs"] == 1
    assert response.headers["location"] == f"/api/v1/runs/{out['run_id']}"
    [(payload, trigger)] = owner_rows(
        world.url,
        "SELECT q.payload, r.trigger FROM etl_job_queue q JOIN etl_runs r "
        "ON r.tenant_id = q.tenant_id AND r.id = q.run_id WHERE q.run_id = %s",
        (out["run_id"],),
    )
    assert payload == {"raw_ids": [raw_id], "reprocess": True} and trigger == "api"
    by_filter = await operator.post("/api/v1/raw/reprocess", json={"entity_type": "jira_status"})
    assert by_filter.status_code == 202 and by_filter.json()["raw_count"] >= 1
    nothing = await operator.post("/api/v1/raw/reprocess", json={"entity_type": "jira_issue"})
    assert nothing.status_code == 422
    assert nothing.json()["type"] == "urn:sluice:problem:empty-selection"
    both = await operator.post(
        "/api/v1/transform-requests", json={"ids": [raw_id], "entity_type": "jira_status"}
    )
    assert both.status_code == 422 and "not both" in both.json()["errors"][0]["message"]


async def test_ingested_records_are_transformed_and_loaded(
    world: World, web: ClientFactory
) -> None:
    admin = web(world.account("WEX", "admin").token)
    custom = await admin.post("/api/v1/integrations", json={"provider": "custom", "name": "Push"})
    assert custom.status_code == 201 and custom.json()["has_token"] is False
    integration_id = custom.json()["id"]
    operator = web(world.account("WEX", "operator").token)
    records = [status_record("901", "Waiting for Vendor"), status_record("902", "Triage")]
    response = await operator.post(f"/api/v1/ingest/{integration_id}", json={"records": records})
    assert response.status_code == 202, response.text
    out = response.json()
    assert len(out["raw_ids"]) == 2 and out["transform_jobs"] == 1
    rows = owner_rows(
        world.url,
        "SELECT entity_type, external_id, processing_status, extraction_metadata "
        "FROM raw_extraction_data WHERE id = ANY(%s) ORDER BY id",
        (out["raw_ids"],),
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("jira_status", "901", "pending"),
        ("jira_status", "902", "pending"),
    ]
    assert rows[0][3]["request"]["source"] == "ingest"
    [(payload,)] = owner_rows(
        world.url, "SELECT payload FROM etl_job_queue WHERE run_id = %s", (out["run_id"],)
    )
    assert payload == {"raw_ids": out["raw_ids"]}
    async with (
        open_services(world.settings) as services,
        running_worker(
            world.url,
            services,
            stages=("transform", "load"),
            scope=ClaimScope(job_types=("transform", "load"), tenant_id=world.tenant_ids["WEX"]),
        ),
    ):
        await wait_until(
            lambda: (
                owner_rows(
                    world.url,
                    "SELECT count(*) FROM statuses WHERE integration_id = %s",
                    (integration_id,),
                )[0][0]
                == 2
            ),
            30,
            "the ingested statuses to load",
        )
    names = owner_rows(
        world.url,
        "SELECT original_name FROM statuses WHERE integration_id = %s ORDER BY external_id",
        (integration_id,),
    )
    assert names == [("Waiting for Vendor",), ("Triage",)]
    run = (await operator.get(f"/api/v1/runs/{out['run_id']}")).json()
    assert run["status"] == "finished"


async def test_ingest_validates_size_shape_and_state(world: World, web: ClientFactory) -> None:
    operator = web(world.account("WEX", "operator").token)
    integration_id = world.ids["WEX"]["integration_id"]
    path = f"/api/v1/ingest/{integration_id}"
    unknown = await operator.post(
        path, json={"records": [{"entity_type": "spreadsheet", "data": {}}]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "records.0.entity_type"
    empty = await operator.post(path, json={"records": []})
    assert empty.status_code == 422
    too_many = await operator.post(path, json={"records": [status_record("1", "x")] * 1001})
    assert too_many.status_code == 422
    huge = {"records": [{**status_record("1", "x"), "data": {"blob": "x" * (11 * 1024 * 1024)}}]}
    oversized = await operator.post(path, json=huge)
    assert oversized.status_code == 413
    assert oversized.json()["max_bytes"] == 10 * 1024 * 1024
    not_json = await operator.post(
        path, content=b"records=1", headers={"Content-Type": "text/plain"}
    )
    assert not_json.status_code == 415
    broken = await operator.post(
        path, content=b'{"records": [', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["detail"]
    admin = web(world.account("WEX", "admin").token)
    inactive = (
        await admin.post(
            "/api/v1/integrations", json={"provider": "custom", "name": "Off", "active": False}
        )
    ).json()
    refused = await operator.post(
        f"/api/v1/ingest/{inactive['id']}", json={"records": [status_record("1", "x")]}
    )
    assert refused.status_code == 409 and "inactive" in refused.json()["detail"]
