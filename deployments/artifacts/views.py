"""Pages for a project's artifacts: the list with upload, one version, its files,
the difference between two versions, and downloads. Only members of the
project's team see them (404 for anyone else); members and leads upload."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat

from deployments.artifacts import browse as artifact_browse
from deployments.artifacts.selectors import artifact_for_project, project_artifacts
from deployments.artifacts.services import artifact_upload, upload_size_problem
from deployments.artifacts.starter import starter_repository
from deployments.plans.selectors import speculative_plans_for
from deployments.plans.speculative import speculative_plans_start
from onboarding.access import can_deploy, project_for_user
from onboarding.tabs import PROJECT_TABS

PAGE_SIZE = 25


class ArtifactUploadForm(forms.Form):
    file = forms.FileField(
        label="Artifact zip",
        help_text="The zip made by `hangar build` (checked before it is stored).",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )


def _context(project, **extra) -> dict:
    return {"project": project, "tabs": PROJECT_TABS, "tab": "artifacts", **extra}


def artifact_list(request, slug):
    """The Artifacts tab: every version, newest first; POST uploads one."""
    project = project_for_user(request.user, slug)
    may_upload = can_deploy(request.user, project)
    form, problems, status = ArtifactUploadForm(), [], 200
    too_large = upload_size_problem(request.META.get("CONTENT_LENGTH")) if request.method == "POST" else None
    if too_large:
        problems, status = [too_large], 413
    elif request.method == "POST":
        form = ArtifactUploadForm(request.POST, request.FILES)
        if not may_upload:
            problems, status = [f"Only members of {project.team} can upload artifacts to {project}."], 403
        elif form.is_valid():
            try:
                artifact, created = artifact_upload(
                    project=project, fileobj=form.cleaned_data["file"], user=request.user
                )
            except PermissionDenied as error:
                problems, status = [str(error)], 403
            except ValidationError as error:
                problems, status = error.messages, 400
            else:
                if created:
                    speculative_plans_start(artifact=artifact)
                    messages.success(request, f"Uploaded version {artifact.version} ({filesizeformat(artifact.size)}).")
                else:
                    messages.info(
                        request, f"Version {artifact.version} is identical to the stored version: nothing changed."
                    )
                return redirect("artifact_detail", project.slug, artifact.version)
        else:
            status = 400
    page = Paginator(artifact_browse.artifact_list(project), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "deployments/artifact_list.html",
        _context(
            project,
            page=page,
            rows=artifact_browse.artifact_rows(page.object_list),
            form=form,
            may_upload=may_upload,
            problems=problems,
        ),
        status=status,
    )


def artifact_detail(request, slug, version):
    project = project_for_user(request.user, slug)
    artifact = artifact_for_project(project, version)
    row = artifact_browse.artifact_rows(artifact_browse.artifact_list(project).filter(pk=artifact.pk))[0]
    return render(
        request,
        "deployments/artifact_detail.html",
        _context(
            project,
            artifact=artifact,
            row=row,
            metadata=artifact.manifest.get("metadata", {}),
            folders=artifact_browse.artifact_file_tree(artifact),
            previous=artifact_browse.artifact_previous(artifact),
            may_deploy=can_deploy(request.user, project),
            speculative_plans=speculative_plans_for(artifact),
            speculative_enabled=settings.SPECULATIVE_PLANS,
        ),
    )


def artifact_file(request, slug, version, path):
    project = project_for_user(request.user, slug)
    artifact = artifact_for_project(project, version)
    try:
        view = artifact_browse.artifact_file_view(artifact=artifact, path=path)
    except KeyError:
        raise Http404(f"Version {version} has no file {path!r}.") from None
    return render(request, "deployments/artifact_file.html", _context(project, artifact=artifact, file=view))


def artifact_download(request, slug, version):
    project = project_for_user(request.user, slug)
    artifact = artifact_for_project(project, version)
    try:
        stored = artifact.file.open("rb")
    except FileNotFoundError:
        raise Http404(f"The stored zip of version {version} is missing; ask an admin.") from None
    return FileResponse(
        stored,
        as_attachment=True,
        filename=f"{project.slug}-{artifact.version}.zip",
        content_type="application/zip",
    )


def artifact_diff(request, slug):
    """Two versions compared: the files people edit first, then the generated Terraform, folded.
    Defaults to the two newest."""
    project = project_for_user(request.user, slug)
    versions = list(project_artifacts(project).values_list("version", flat=True))
    old_version = request.GET.get("from") or (versions[1] if len(versions) > 1 else "")
    new_version = request.GET.get("to") or (versions[0] if versions else "")
    old = artifact_for_project(project, old_version) if old_version else None
    new = artifact_for_project(project, new_version) if new_version else None
    comparison = artifact_browse.artifact_diff(old=old, new=new) if old and new else None
    return render(
        request,
        "deployments/artifact_diff.html",
        _context(
            project,
            versions=versions,
            old=old,
            new=new,
            comparison=comparison,
            diffs=comparison.files if comparison else None,
            more_files=comparison.more_files if comparison else 0,
            old_facts=artifact_browse.build_facts(old) if old else None,
            new_facts=artifact_browse.build_facts(new) if new else None,
        ),
    )


def starter_download(request, slug):
    """A new repository for this project that builds into a valid artifact as it is."""
    project = project_for_user(request.user, slug)
    data = starter_repository(service_control_id=project.service_control_id, name=project.name, team=project.team.slug)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-starter.zip"'
    return response
