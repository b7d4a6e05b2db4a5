"""Imports (admins): upload files with a preset or mapping, follow progress, get rejects."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from wholejob.errors import ImportFailed, MappingError, NotVisible
from wholejob.importing.mapping import preset_names
from wholejob.web.context import AdminCtx, RequestCtx, json_dict, jsonable
from wholejob.web.jobs import ImportJob, safe_filename
from wholejob.web.templating import render

__all__ = ["imports_data", "router", "start_import"]

router = APIRouter()
CHUNK = 1 << 20
JobId = Annotated[str, Path(max_length=100, description="An import job or import id.")]


def imports_data(ctx: RequestCtx) -> dict[str, Any]:
    """Return the presets, the dashboard's import jobs and the workspace's import log."""
    jobs = ctx.state.jobs
    log = []
    for entry in ctx.ws.import_log()[:20]:
        rejects = (entry.get("summary") or {}).get("rejects_file")
        log.append({**entry, "rejects_url": (f"/imports/{entry['import_id']}/rejects.csv"
                                             if rejects else None)})
    running = jobs.running()
    return json_dict({
        "presets": preset_names(),
        "running": running.to_json() if running else None,
        "jobs": [j.to_json() for j in sorted(jobs.jobs.values(), key=lambda j: j.started_at,
                                             reverse=True)],
        "log": log,
    })


async def start_import(ctx: RequestCtx, files: list[UploadFile], preset: str,
                       mapping: UploadFile | None) -> ImportJob:
    """Save the uploads inside the workspace and start importing them in the background."""
    preset = preset.strip()
    has_mapping = mapping is not None and bool(mapping.filename)
    if preset and has_mapping:
        raise MappingError("use either a preset or a mapping file, not both")
    if preset and preset not in preset_names():
        raise MappingError(f"unknown preset {preset!r} (known: {', '.join(preset_names())})")
    uploads = [f for f in files if f.filename]
    if not uploads:
        raise ImportFailed("choose at least one CSV or Parquet file to import")
    jobs = ctx.state.jobs
    job = jobs.new_job(ctx.user.username, preset or None,
                       safe_filename(mapping.filename or "") if has_mapping and mapping else None)
    try:
        limit = ctx.state.settings.max_upload_mb * CHUNK
        written = 0
        data = job.folder / "data"
        data.mkdir()
        for upload in uploads:
            name = _unique(data, safe_filename(upload.filename or "upload"))
            written = await _save(upload, data / name, written, limit)
            job.files.append(name)
        if has_mapping and mapping is not None and job.mapping:
            await _save(mapping, job.folder / job.mapping, written, limit)
    except BaseException:
        jobs.discard(job)
        raise
    jobs.start(job)
    return job


def _unique(folder: FilePath, name: str) -> str:
    candidate, n = name, 2
    stem, dot, ext = name.partition(".")
    while (folder / candidate).exists():
        candidate = f"{stem}-{n}{dot}{ext}"
        n += 1
    return candidate


async def _save(upload: UploadFile, target: FilePath, written: int, limit: int) -> int:
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise ImportFailed(f"the upload is larger than {limit // CHUNK} MB; "
                                   "use `wholejob import` for files this big")
            out.write(chunk)
    return written


Files = Annotated[list[UploadFile], File(description="CSV or Parquet files.")]
Preset = Annotated[str, Form(max_length=100, description="A preset name, or empty.")]
Mapping = Annotated[UploadFile | None, File(description="A mapping file (TOML).")]


@router.get("/api/imports", summary="Imports and presets", tags=["imports"])
def imports_json(ctx: AdminCtx) -> dict[str, Any]:
    """Return the available presets, dashboard import jobs and the import log."""
    return imports_data(ctx)


@router.post("/api/imports", summary="Start an import", tags=["imports"], status_code=202)
async def imports_start_json(ctx: AdminCtx, files: Files, preset: Preset = "",
                             mapping: Mapping = None) -> JSONResponse:
    """Upload files and import them in the background; poll the job for progress."""
    job = await start_import(ctx, files, preset, mapping)
    return JSONResponse(jsonable(job.to_json()), status_code=202)


@router.get("/imports", include_in_schema=False)
def imports_page(ctx: AdminCtx) -> Response:
    """Show the upload form, the running import and past imports."""
    return render(ctx.request, "imports.html", {"data": imports_data(ctx), "error": ""})


@router.post("/imports", include_in_schema=False)
async def imports_start(ctx: AdminCtx, files: Files, preset: Preset = "",
                        mapping: Mapping = None) -> Response:
    """Start an import from the upload form and show its progress."""
    try:
        job = await start_import(ctx, files, preset, mapping)
    except (ImportFailed, MappingError) as e:
        return render(ctx.request, "imports.html", {"data": imports_data(ctx),
                                                    "error": str(e)}, status_code=400)
    return RedirectResponse(f"/imports/{job.job_id}", status_code=303)


def _job(ctx: RequestCtx, job_id: str) -> ImportJob:
    job = ctx.state.jobs.find(job_id)
    if job is None:
        raise NotVisible(f"no import job {job_id!r}")
    return job


@router.get("/api/imports/{job_id}", summary="One import job", tags=["imports"])
def import_job_json(ctx: AdminCtx, job_id: JobId) -> dict[str, Any]:
    """Return an import job's status, progress and summary."""
    result: dict[str, Any] = jsonable(_job(ctx, job_id).to_json())
    return result


@router.get("/imports/{job_id}", include_in_schema=False)
def import_job_page(ctx: AdminCtx, job_id: JobId) -> Response:
    """Show an import's progress and, when done, its summary."""
    return render(ctx.request, "import_job.html",
                  {"job": jsonable(_job(ctx, job_id).to_json())})


@router.get("/imports/{job_id}/rejects.csv", summary="Rejected rows of an import",
            tags=["imports"], response_class=FileResponse,
            responses={200: {"content": {"text/csv": {}}}})
def import_rejects(ctx: AdminCtx, job_id: JobId) -> FileResponse:
    """Download the rejects file of a dashboard job or of an import in the log."""
    path: FilePath | None = None
    job = ctx.state.jobs.find(job_id)
    if job is not None and job.has_rejects:
        path = job.rejects_path
    else:
        entry = next((e for e in ctx.ws.import_log() if e["import_id"] == job_id), None)
        rejects = (entry.get("summary") or {}).get("rejects_file") if entry else None
        if rejects:
            path = FilePath(rejects)
    root = ctx.state.path.resolve()
    if path is None or not path.is_file() or root not in path.resolve().parents:
        raise NotVisible(f"no rejects file for {job_id!r}")
    return FileResponse(path, media_type="text/csv", filename=f"rejects-{job_id}.csv")
