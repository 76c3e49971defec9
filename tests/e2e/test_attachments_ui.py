"""On a phone: the inspector attaches site photos and documents to a result, sees them listed (with a preview),
is told in Chinese when a file is not a photo or PDF, removes one, and after submission they are fixed; the
reviewer sees them on the result page."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.inspection.conftest import INSPECTOR, matched_task_with_inspector
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, red) PNG, so that the browser can draw the preview."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_phone_attachments_upload_list_remove(
    phone: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    login(phone, app_server.url, INSPECTOR)
    entry_url = f"{app_server.url}/results/entry/{task['task_id']}/{task['uscc']}"
    phone.goto(entry_url)
    # Nothing to attach to before the first save.
    expect(phone.locator("#attachments-after-save")).to_be_visible()
    expect(phone.locator("#attachment-form")).to_have_count(0)
    phone.fill("#check_date", "2023-06-15")
    phone.click("#save-draft")
    expect(phone.locator("#saved")).to_be_visible()

    # Two files at once: a photo and a PDF document.
    expect(phone.locator("#no-attachments")).to_have_text("暂无附件")
    phone.set_input_files(
        "#attachment-file",
        files=[
            {"name": "现场照片.png", "mimeType": "image/png", "buffer": png()},
            {"name": "责令整改通知书.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ],
    )
    phone.click("#upload-attachment")
    expect(phone.locator("#attachment-saved")).to_have_text("已上传 2 个附件")
    items = phone.locator("#attachment-list .attachment")
    expect(items).to_have_count(2)
    expect(phone.locator("#attachment-list .attachment-name")).to_have_text(
        ["现场照片.png", "责令整改通知书.pdf"]
    )
    expect(items.first).to_contain_text("照片")
    expect(items.nth(1)).to_contain_text("PDF 文书")
    # The preview is the stored photo itself, served to the signed-in browser.
    thumb = phone.locator("#attachment-list img.thumb")
    expect(thumb).to_have_count(1)
    phone.wait_for_function("document.querySelector('#attachment-list img.thumb').naturalWidth === 4")
    stored = phone.request.get(
        f"{app_server.url}{phone.locator('#attachment-list .attachment-name').first.get_attribute('href')}"
    )
    assert stored.status == 200 and stored.headers["content-type"] == "image/png" and stored.body() == png()

    # A file that is not what its name says is refused by its content, in Chinese; nothing of it is stored.
    phone.set_input_files(
        "#attachment-file",
        files=[
            {"name": "照片2.jpg", "mimeType": "image/jpeg", "buffer": "这不是照片".encode()},
        ],
    )
    phone.click("#upload-attachment")
    expect(phone.locator("#attachment-error")).to_contain_text(
        "照片2.jpg：只接受 JPEG、PNG、WebP 照片或 PDF 文书"
    )
    expect(phone.locator("#attachment-list .attachment")).to_have_count(2)
    # Nothing chosen: said so.
    phone.click("#upload-attachment")
    expect(phone.locator("#attachment-error")).to_have_text("请选择要上传的照片或文书")

    # Remove the document (after confirming).
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator("#attachment-list .attachment", has_text="责令整改通知书.pdf").locator(
        ".remove-attachment"
    ).click()
    expect(phone.locator("#attachment-removed")).to_be_visible()
    expect(phone.locator("#attachment-list .attachment-name")).to_have_text(["现场照片.png"])
    # Declining the confirmation keeps it.
    phone.once("dialog", lambda dialog: dialog.dismiss())
    phone.locator("#attachment-list .remove-attachment").click()
    expect(phone.locator("#attachment-list .attachment")).to_have_count(1)

    # Complete and submit: the attachments are now part of the result under review and can no longer change.
    for radio in phone.locator("input[type=radio][value=符合]").all():
        radio.check()
    phone.check("input[name=categories][value=未发现问题]")
    phone.check("input[name=follow_ups][value=无需后续处置]")
    phone.click("#submit-result")
    expect(phone.locator("#result-status")).to_have_text("待审核")
    result_url = phone.url
    phone.goto(entry_url)
    expect(phone.locator("#attachment-list .attachment")).to_have_count(1)
    expect(phone.locator("#attachment-form")).to_have_count(0)
    expect(phone.locator(".remove-attachment")).to_have_count(0)
    phone.context.clear_cookies()

    # The reviewer sees the photo on the result page.
    login(phone, app_server.url, "yjj-reviewer")
    phone.goto(result_url)
    expect(phone.locator("#attachment-list .attachment-name")).to_have_text(["现场照片.png"])
