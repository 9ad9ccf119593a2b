"""An integrator's script against the client openapi-python-client made
from /api/openapi.json: create a project, upload a file through the
presigned URL, download it back. Run by python_client.rs with the
generated package on the path; prints what it checked, exits non-zero on
any difference."""

import sys

import httpx

from tenantry_api_client import AuthenticatedClient
from tenantry_api_client.api.files import complete_file, create_file, download_file, list_files
from tenantry_api_client.api.projects import create_project, get_project, list_projects
from tenantry_api_client.models import CreateFile, CreateProject, FileUpload, ProjectView

base_url, api_key = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=base_url, token=api_key, prefix="", auth_header_name="X-API-Key")

project = create_project.sync(client=client, body=CreateProject(name="From Python"), idempotency_key="py-1")
assert isinstance(project, ProjectView), project
again = create_project.sync(client=client, body=CreateProject(name="From Python"), idempotency_key="py-1")
assert isinstance(again, ProjectView) and again.id == project.id, "the idempotent retry answers the same project"
read = get_project.sync(client=client, id=project.id)
assert read.name == "From Python", read
names = [p.name for p in list_projects.sync(client=client, q="python").items]
assert names == ["From Python"], names

data = b"bytes from an integrator"
started = create_file.sync(
    client=client,
    id=project.id,
    body=CreateFile(name="report.txt", content_type="text/plain", size=len(data)),
)
assert isinstance(started, FileUpload), started
upload = started.upload
put = httpx.request(upload.method, upload.url, headers=upload.headers.to_dict(), content=data)
assert put.status_code == 200, (put.status_code, put.text)
ready = complete_file.sync(client=client, id=project.id, file_id=started.file.id)
assert ready.status.value == "ready", ready

link = download_file.sync(client=client, id=project.id, file_id=started.file.id)
got = httpx.get(link.url, headers=link.headers.to_dict())
assert got.status_code == 200 and got.content == data, (got.status_code, got.content)
files = list_files.sync(client=client, id=project.id)
assert [f.name for f in files.items] == ["report.txt"], files

print("python client: project", project.id, "file", started.file.id, "round trip ok")
