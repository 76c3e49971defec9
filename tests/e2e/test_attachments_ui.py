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
    entry_url = f"{app_server.url}/field/entry/{task['task_id']}/{task['uscc']}"
    phone.goto(entry_url)
    # Before anything is saved, files may be chosen already: the draft is saved first, and the page is not left.
    expect(phone.locator("#no-attachments")).to_have_text("暂无其他附件")
    phone.set_input_files(
        "#attachment-file",
        files=[
            {"name": "现场照片.png", "mimeType": "image/png", "buffer": png()},
            {"name": "责令整改通知书.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ],
    )
    items = phone.locator("#attachment-list .attachment")
    expect(items).to_have_count(2)
    expect(phone.locator("#attachment-list .attachment-name")).to_have_text(
        ["现场照片.png", "责令整改通知书.pdf"]
    )
    assert phone.url == entry_url
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
    # After a reload the server's list is the same.
    phone.reload()
    expect(phone.locator("#attachment-list .attachment")).to_have_count(2)

    # A file that is not what its name says is refused by its content, in Chinese, beside the upload; nothing of it
    # is stored.
    phone.set_input_files(
        "#attachment-file",
        files=[{"name": "照片2.jpg", "mimeType": "image/jpeg", "buffer": "这不是照片".encode()}],
    )
    expect(phone.locator("#err-photo-general")).to_contain_text(
        "照片2.jpg：只接受 JPEG、PNG、WebP 照片或 PDF 文书"
    )
    expect(phone.locator("#attachment-list .attachment")).to_have_count(2)

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
    phone.reload()
    expect(phone.locator("#attachment-list .attachment-name")).to_have_text(["现场照片.png"])

    # Complete and submit: the attachments are now part of the result under review and can no longer change.
    phone.fill("#check_date", "2023-06-15")
    for label in phone.locator(".point label[for$='_1']").all():  # 符合
        label.click()
    phone.locator("label.check", has_text="未发现问题").click()
    phone.locator("label.check", has_text="无需后续处置").click()
    phone.click("#submit-result")
    phone.click("#confirm-submit")
    expect(phone.locator("#result-status")).to_have_text("待审核")
    result_url = phone.url
    phone.goto(entry_url)
    expect(phone.locator("#read-only")).to_be_visible()
    expect(phone.locator("#attachment-list .attachment")).to_have_count(1)
    expect(phone.locator("#attachment-form")).to_have_count(0)
    expect(phone.locator(".remove-attachment")).to_have_count(0)
    expect(phone.locator(".photo-input")).to_have_count(0)
    phone.context.clear_cookies()

    # The reviewer sees the photo on the result page.
    login(phone, app_server.url, "yjj-reviewer")
    phone.goto(result_url)
    expect(phone.locator("#attachment-list .attachment-name")).to_have_text(["现场照片.png"])
