"""Photos and declarations are checked by content: a file that lies about its type, an
oversized one, a decompression bomb, an encrypted or garbage PDF are refused; what is
accepted is kept (photos re-encoded without metadata), and the declaration completes the
job and goes to the Customer Support Email."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from PIL import Image
from pypdf import PdfWriter

from evdms.accounts.models import User
from evdms.installations.documents import (
    DECLARATION_MAX_BYTES,
    PHOTO_MAX_BYTES,
    clean_declaration,
    clean_photo,
)
from evdms.installations.models import JobDocument, JobStatus
from evdms.installations.services.documents import declaration_upload
from evdms.installations.services.jobs import driver_photo_add, job_photo_add
from evdms.installations.services.transitions import WrongStep
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db


def jpeg(size=(3000, 1500), exif: bool = True) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[0x8825] = {2: (52.0, 22.0, 0.0)}  # GPS latitude
        image.save(out, format="JPEG", exif=data)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def pdf(pages: int = 1, password: str = "") -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- pure checks --------------------------------------------------------------------------


def test_a_photo_is_reencoded_as_jpeg_without_metadata_and_shrunk():
    data, sha256 = clean_photo(jpeg())
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (2000, 1000)
    assert not image.getexif() and "exif" not in image.info
    assert len(sha256) == 64
    small, _ = clean_photo(SimpleUploadedFile("fuse.png", png(), "image/png"))
    assert Image.open(io.BytesIO(small)).size == (40, 30)


@pytest.mark.parametrize(
    "content",
    [
        b"GIF89a" + b"\0" * 100,  # a GIF is not accepted
        b"%PDF-1.4 not an image",
        b"\xff\xd8\xff" + b"garbage" * 10,  # a JPEG's first bytes, nothing else
        base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"),
    ],
)
def test_a_file_that_lies_about_its_type_is_refused(content):
    with pytest.raises(ValidationError) as refused:
        clean_photo(SimpleUploadedFile("photo.jpg", content, "image/jpeg"))
    assert "JPEG or PNG" in refused.value.messages[0] or "damaged" in refused.value.messages[0]


def test_an_oversized_photo_and_a_bomb_are_refused_before_decoding():
    with pytest.raises(ValidationError) as refused:
        clean_photo(b"\xff\xd8" + b"\0" * PHOTO_MAX_BYTES)
    assert "at most 10 MB" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        clean_photo(png_header_only(50_000, 50_000))
    assert "50,000 × 50,000" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        clean_photo(png_header_only(7000, 7000))  # 49 megapixels
    with pytest.raises(ValidationError) as refused:
        clean_photo(b"")
    assert "empty" in refused.value.messages[0]


def test_a_truncated_image_is_damaged():
    whole = jpeg(exif=False)
    with pytest.raises(ValidationError) as refused:
        clean_photo(whole[: len(whole) // 3])
    assert "damaged" in refused.value.messages[0]


def test_a_declaration_is_a_real_unencrypted_pdf_with_pages():
    good = pdf(2)
    assert clean_declaration(SimpleUploadedFile("d.pdf", good, "application/pdf")) == good
    with pytest.raises(ValidationError) as refused:
        clean_declaration(pdf(1, password="secret"))
    assert "encrypted" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        clean_declaration(b"%PDF-1.7\n" + b"garbage " * 200)
    assert "must be a PDF" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        clean_declaration(jpeg(exif=False))
    assert "must be a PDF" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        clean_declaration(b"%PDF-" + b"\0" * DECLARATION_MAX_BYTES)
    assert "at most 10 MB" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        clean_declaration(pdf(0))
    assert "no pages" in refused.value.messages[0] or "must be a PDF" in refused.value.messages[0]


# --- services -----------------------------------------------------------------------------


@pytest.fixture
def job(world):
    installer = make_installer()
    dora = User.objects.create(email="dora@example.com", full_name="Dora Driver")
    return make_job(make_connection(world.org_a), dora, installer.company), installer


def test_survey_and_driver_photos_are_kept_on_open_jobs(world, job):
    job, installer = job
    document = job_photo_add(
        actor=world.actor(installer.technician), job=job, upload=jpeg(), filename="wall.heic"
    )
    assert (document.kind, document.filename, document.content_type) == (
        "survey_photo",
        "wall.jpg",
        "image/jpeg",
    )
    assert document.uploaded_by == installer.technician.user
    mine = driver_photo_add(
        driver=job.driver, job=job, upload=SimpleUploadedFile("../../fuse box.png", png())
    )
    assert mine.kind == "driver_photo" and mine.filename == "fuse box.jpg"
    with pytest.raises(Http404):
        driver_photo_add(driver=User.objects.create(email="eve@example.com"), job=job, upload=png())
    with pytest.raises(ValidationError) as refused:
        job_photo_add(actor=world.actor(installer.technician), job=job, upload=b"not an image")
    assert "photo" in refused.value.message_dict
    type(job).objects.filter(pk=job.pk).update(status="cancelled", cancel_reason="x")
    with pytest.raises(WrongStep):
        driver_photo_add(driver=job.driver, job=job, upload=png())
    assert JobDocument.objects.count() == 2


def test_the_declaration_completes_a_commissioned_job_and_is_emailed(world, job):
    job, installer = job
    manager = world.actor(installer.manager)
    with pytest.raises(WrongStep):
        declaration_upload(actor=manager, job=job, upload=pdf())
    type(job).objects.filter(pk=job.pk).update(status=JobStatus.COMMISSIONED)
    with pytest.raises(PermissionDenied):
        declaration_upload(actor=world.actor(installer.technician), job=job, upload=pdf())
    with pytest.raises(Http404):
        declaration_upload(
            actor=world.actor(make_installer("other").manager), job=job, upload=pdf()
        )
    with pytest.raises(ValidationError) as refused:
        declaration_upload(actor=manager, job=job, upload=pdf(password="x"))
    assert "declaration" in refused.value.message_dict
    content = pdf()
    completed = declaration_upload(
        actor=manager, job=job, upload=SimpleUploadedFile("Declaration Dora.pdf", content)
    )
    assert completed.status == JobStatus.COMPLETED and completed.completed_at is not None
    kept = JobDocument.objects.get(kind="declaration")
    assert bytes(kept.content) == content and kept.filename == "Declaration Dora.pdf"
    email = OutboundEmail.objects.get(template="installation_declaration")
    assert email.to == ["support@voltlease.example"]
    assert email.attachments[0]["filename"] == "Declaration Dora.pdf"
    assert base64.b64decode(email.attachments[0]["content_b64"]) == content


@pytest.mark.django_db(transaction=True)
def test_two_declarations_at_once_complete_the_job_once(world, job):
    from evdms.installations.tests.test_jobs_steps import each_once

    job, installer = job
    type(job).objects.filter(pk=job.pk).update(status=JobStatus.COMMISSIONED)
    manager = world.actor(installer.manager)
    refused = each_once(
        lambda: declaration_upload(actor=manager, job=job.pk, upload=pdf()),
        lambda: declaration_upload(actor=manager, job=job.pk, upload=pdf(2)),
    )
    assert len(refused) == 1 and "“Completed”" in refused[0]
    assert JobDocument.objects.filter(kind="declaration").count() == 1
    assert OutboundEmail.objects.filter(template="installation_declaration").count() == 1
