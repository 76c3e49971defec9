/* The inspector's field app: autosave, drafts kept on the phone (IndexedDB) while offline or after the tab is closed,
   photos taken at each check point and hazard and uploaded without leaving the page.

   The server stays the source of truth. A draft kept on the phone carries the time of the server copy it started
   from ("base"); the server refuses it when its copy changed since, and the page shows that conflict and lets the
   inspector choose. Keys are "<user>|<task>|<USCC>", so one phone may carry several inspectors' drafts apart. */
(function () {
  'use strict';

  var PAGES = 'spotcheck-field-pages';
  var user = document.body.dataset.user || '';

  // ---- IndexedDB: drafts (by key) and photos waiting to be uploaded -------------------------------------------
  var opened = null;
  function db() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = indexedDB.open('spotcheck-field', 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore('drafts');
          request.result.createObjectStore('photos', { keyPath: 'id' });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }
  function store(name, mode, action) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(name, mode);
        var request = action(t.objectStore(name));
        t.oncomplete = function () { resolve(request ? request.result : undefined); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }
  var idb = {
    get: function (name, key) { return store(name, 'readonly', function (s) { return s.get(key); }); },
    put: function (name, value, key) {
      return store(name, 'readwrite', function (s) { return key === undefined ? s.put(value) : s.put(value, key); });
    },
    del: function (name, key) { return store(name, 'readwrite', function (s) { return s.delete(key); }); },
    all: function (name) { return store(name, 'readonly', function (s) { return s.getAll(); }); }
  };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0;
      return (c === 'x' ? r : (r & 3 | 8)).toString(16);
    });
  }
  function csrf() {
    var input = document.querySelector('input[name="_csrf_token"]');
    return input ? input.value : '';
  }
  function hhmm(at) {
    var d = at ? new Date(at) : new Date();
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }
  function postDraft(task, uscc, body) {
    return fetch('/field/entry/' + task + '/' + encodeURIComponent(uscc) + '/save', {
      method: 'POST',
      credentials: 'same-origin',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf() },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) { return { resp: resp, data: data }; });
    });
  }

  // ---- the shell: service worker, this page kept for offline use, the network state ----------------------------
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/field/sw.js', { scope: '/field' }).catch(function () {});
  }
  function keepPage() {
    if (!('caches' in window) || !navigator.onLine) return;
    caches.open(PAGES).then(function (c) { return c.add(location.pathname); }).catch(function () {});
  }
  var netState = document.getElementById('net-state');
  function showNet() { if (netState) netState.hidden = navigator.onLine; }
  window.addEventListener('online', showNet);
  window.addEventListener('offline', showNet);
  showNet();
  var logout = document.getElementById('field-logout');
  if (logout && 'caches' in window) {
    // The pages kept for offline use carry this inspector's data: not for the next person on this phone.
    logout.addEventListener('submit', function () { caches.delete(PAGES); });
  }

  var form = document.getElementById('entry-form');
  if (form) entryPage(form); else homePage();

  // ---- home: drafts left on this phone are flagged, and sent as soon as the network is back -------------------
  function homePage() {
    keepPage();
    function syncAll() {
      if (!navigator.onLine) return;
      idb.all('drafts').then(function (drafts) {
        drafts.forEach(function (rec) {
          if (rec.user !== user) return;
          var flag = document.querySelector('.local-draft-flag[data-key="' + rec.task + '|' + rec.uscc + '"]');
          if (flag) flag.hidden = false;
          postDraft(rec.task, rec.uscc, { values: rec.values, base: rec.base, action: 'save' }).then(function (r) {
            if (r.resp.ok) {
              idb.del('drafts', rec.key);
              if (flag) flag.hidden = true;
            } else if (flag) {
              flag.textContent = r.resp.status === 409 ? '与服务器记录冲突，请打开处理' : '本手机有未保存内容，请打开处理';
            }
          }).catch(function () {});
        });
      }).catch(function () {});
    }
    idb.all('drafts').then(function (drafts) {
      drafts.forEach(function (rec) {
        var flag = document.querySelector('.local-draft-flag[data-key="' + rec.task + '|' + rec.uscc + '"]');
        if (flag && rec.user === user) flag.hidden = false;
      });
      syncAll();
    }).catch(function () {});
    window.addEventListener('online', syncAll);
  }

  // ---- the entry form ----------------------------------------------------------------------------------------------
  function entryPage(form) {
    keepPage();
    if (form.dataset.editable !== 'yes') return;
    var task = form.dataset.task, uscc = form.dataset.uscc;
    var key = user + '|' + task + '|' + uscc;
    var base = document.getElementById('base');
    var state = document.getElementById('save-state');
    var summary = document.getElementById('form-errors');
    var revision = 0, savedRevision = 0, timer = null, running = null, offlineSince = null;
    var maxBytes = parseInt(form.dataset.maxBytes || '0', 10);

    Array.prototype.forEach.call(document.querySelectorAll('.photo-take, #add-hazard'), function (el) { el.hidden = false; });
    var uploadButton = document.getElementById('upload-attachment');
    if (uploadButton) uploadButton.disabled = false;

    function values() {
      var out = {};
      new FormData(form).forEach(function (value, name) {
        if (typeof value !== 'string' || ['_csrf_token', 'base', 'action', 'force'].indexOf(name) >= 0) return;
        (out[name] = out[name] || []).push(value);
      });
      return out;
    }
    function restore(vals) {
      (vals.hazard || []).forEach(function (id) {
        var described = (vals['hazard_description_' + id] || [''])[0];
        if (!form.querySelector('[data-hazard="' + id + '"]') && described) addHazard(id);
      });
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.type === 'file' || el.type === 'hidden' || el.name === 'action' || el.name === 'force') return;
        var given = vals[el.name] || [];
        if (el.type === 'radio' || el.type === 'checkbox') el.checked = given.indexOf(el.value) >= 0;
        else el.value = given.length ? given[0] : (el.tagName === 'SELECT' ? el.options[0].value : '');
      });
    }
    function say(html, bad) {
      if (!state) return;
      state.innerHTML = bad ? '<span class="bad">' + html + '</span>' : html;
    }
    function remember() {
      return idb.put('drafts', {
        key: key, user: user, task: task, uscc: uscc, values: values(), base: base.value, at: Date.now()
      }, key).catch(function () {});
    }
    function offline() {
      offlineSince = offlineSince || Date.now();
      say('离线：已保存在本手机（' + hhmm() + '），恢复网络后自动同步');
    }

    // Errors beside their fields, all at once; a summary above the form links to each.
    function showErrors(errors, savedAnyway) {
      Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (p) {
        if (p.id.indexOf('err-photo-') === 0) return;
        p.hidden = true; p.textContent = '';
      });
      Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid]'), function (el) { el.removeAttribute('aria-invalid'); });
      var names = Object.keys(errors);
      var list = document.getElementById('form-errors-list');
      list.innerHTML = '';
      names.forEach(function (name) {
        var message = errors[name];
        var beside = document.getElementById('err-' + name);
        var field = document.getElementById(name);
        if (beside) { beside.textContent = message; beside.hidden = false; }
        if (field) field.setAttribute('aria-invalid', 'true');
        var li = document.createElement('li');
        if (field) {
          var a = document.createElement('a');
          a.href = '#' + name; a.textContent = message; li.appendChild(a);
        } else {
          li.textContent = message;
        }
        list.appendChild(li);
      });
      document.getElementById('form-errors-title').textContent = !names.length ? '' : savedAnyway
        ? '草稿已保存，但还不能提交审核，请补全以下 ' + names.length + ' 处：'
        : '没有保存：请修改以下 ' + names.length + ' 处（您填写的内容都还在）：';
      summary.hidden = !names.length;
    }
    function showConflict(conflict) {
      var box = document.getElementById('conflict');
      document.getElementById('conflict-text').textContent = conflict.updated_at
        ? '服务器上的记录已于 ' + conflict.updated_at + ' 由 ' + conflict.by + ' 修改（' + conflict.status + '），与本手机上填写的内容不一致，本次没有保存。'
        : '服务器上的记录已变化，与本手机上填写的内容不一致，本次没有保存。';
      box.hidden = false;
      say('与服务器上的记录冲突，请在页面上方选择', true);
      box.scrollIntoView({ block: 'start' });
    }

    // One save at a time; what was typed meanwhile is saved by the next one.
    function sync(action, force) {
      var previous = running || Promise.resolve();
      running = previous.then(function () { return send(action, force); });
      return running;
    }
    function send(action, force) {
      clearTimeout(timer);
      if (!navigator.onLine) { offline(); return Promise.resolve({ offline: true }); }
      var sent = revision;
      say('正在保存…');
      return postDraft(task, uscc, { values: values(), base: base.value, action: action || 'save', force: !!force })
        .then(function (r) {
          var resp = r.resp, data = r.data;
          if (resp.type === 'opaqueredirect' || resp.status === 401) {
            say('登录已过期：填写内容已保存在本手机，请重新登录后再打开本页', true);
            return { expired: true };
          }
          if (resp.status === 409 && data.conflict) { showConflict(data.conflict); return { conflict: true }; }
          if (data.base) {
            base.value = data.base;
            form.dataset.result = data.result_id;
            var badge = document.getElementById('result-status');
            if (badge) badge.textContent = data.status;
            document.getElementById('conflict').hidden = true;
            document.getElementById('local-restored').hidden = true;
          }
          if (!resp.ok && !data.errors) {
            showErrors({ form: (data.error && data.error.message) || '保存失败，请稍后重试' }, false);
            say('没有保存：' + ((data.error && data.error.message) || '请稍后重试'), true);
            return { failed: true };
          }
          showErrors(data.errors || {}, !!data.base);
          var done = data.base ? (revision === sent ? idb.del('drafts', key) : remember()) : Promise.resolve();
          return done.then(function () {
            if (data.base) { savedRevision = sent; offlineSince = null; keepPage(); }
            if (data.redirect) { location.assign(data.redirect); return { ok: true, submitted: true }; }
            if (resp.ok) {
              say('<span id="saved">已保存草稿</span> · ' + hhmm() + (data.warning ? '（' + data.warning + '）' : ''));
              return { ok: true };
            }
            say(data.base ? '草稿已保存，还不能提交审核：请补全标出的 ' + Object.keys(data.errors).length + ' 处'
              : '没有保存：请修改标出的 ' + Object.keys(data.errors).length + ' 处', true);
            return { errors: data.errors, saved: !!data.base };
          });
        })
        .catch(function () { offline(); return { offline: true }; });
    }

    function edited(event) {
      if (event.target.classList && event.target.classList.contains('photo-input')) return;
      if (event.target.type === 'file') return;
      revision++;
      remember();
      say(navigator.onLine ? '有修改，稍后自动保存' : '离线：已保存在本手机（' + hhmm() + '），恢复网络后自动同步');
      clearTimeout(timer);
      timer = setTimeout(function () { sync('save'); }, 1500);
    }
    form.addEventListener('input', edited);
    form.addEventListener('change', edited);

    // 保存草稿, 提交审核 (after an in-page confirmation), and the conflict's "keep mine".
    var confirmBox = document.getElementById('submit-confirm');
    var buttons = document.getElementById('save-buttons');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var by = event.submitter || document.activeElement;
      if (by && by.id === 'submit-result') {
        if (!navigator.onLine) { offline(); say('离线时不能提交审核：内容已保存在本手机，恢复网络后再提交', true); return; }
        confirmBox.hidden = false; buttons.hidden = true;
        document.getElementById('confirm-submit').focus();
        return;
      }
      var force = by && by.id === 'conflict-keep-mine';
      sync('save', force).then(function (r) { if (r && r.errors) summary.focus(); });
    });
    document.getElementById('cancel-submit').addEventListener('click', function () {
      confirmBox.hidden = true; buttons.hidden = false;
    });
    document.getElementById('confirm-submit').addEventListener('click', function () {
      confirmBox.hidden = true; buttons.hidden = false;
      sync('submit').then(function (r) { if (r && r.errors) summary.focus(); });
    });
    document.getElementById('conflict-take-server').addEventListener('click', function (event) {
      event.preventDefault();
      var href = this.href;
      idb.del('drafts', key).then(function () { location.assign(href); });
    });
    window.addEventListener('online', function () {
      idb.get('drafts', key).then(function (rec) {
        if (rec) sync('save').then(uploadPhotos); else uploadPhotos();
      });
    });
    window.addEventListener('offline', offline);

    // ---- hazards: one more, on demand -------------------------------------------------------------------------
    function numberHazards() {
      Array.prototype.forEach.call(form.querySelectorAll('#hazard-list .hazard-no'), function (n, i) { n.textContent = i + 1; });
    }
    function addHazard(id) {
      var html = document.getElementById('hazard-template').innerHTML.replace(/__ID__/g, id || uuid());
      var holder = document.createElement('div');
      holder.innerHTML = html.trim();
      var slot = holder.firstChild;
      document.getElementById('hazard-list').appendChild(slot);
      numberHazards();
      return slot;
    }
    document.getElementById('add-hazard').addEventListener('click', function () {
      var slot = addHazard();
      slot.querySelector('textarea').focus();
    });

    // ---- photos: kept on the phone first, uploaded when the draft they belong to is saved --------------------
    function thumbList(shot) {
      return document.getElementById(shot.kind === 'general' ? 'attachment-list' : 'thumbs-' + shot.anchor);
    }
    function photoError(anchor, message) {
      var p = document.getElementById('err-photo-' + (anchor || 'general'));
      if (!p) return;
      p.textContent = message; p.hidden = !message;
    }
    function showPending(shot) {
      var list = thumbList(shot);
      if (!list || list.querySelector('[data-shot="' + shot.id + '"]')) return;
      var empty = document.getElementById('no-attachments');
      if (empty && shot.kind === 'general') empty.remove();
      var li = document.createElement('li');
      li.className = 'thumb-item pending';
      li.dataset.shot = shot.id;
      var text = document.createElement('span');
      text.className = 'thumb-text';
      text.innerHTML = '<span></span><span class="muted">待上传（已保存在本手机）</span>';
      text.firstChild.textContent = shot.name;
      if (/^image\//.test(shot.type)) {
        var img = document.createElement('img');
        img.className = 'thumb'; img.alt = '待上传的照片 ' + shot.name;
        var reader = new FileReader();
        reader.onload = function () { img.src = reader.result; };
        reader.readAsDataURL(shot.blob);
        li.appendChild(img);
      }
      li.appendChild(text);
      list.appendChild(li);
    }
    function stored(att) {
      var li = document.createElement('li');
      li.className = 'thumb-item attachment';
      li.dataset.attachment = att.id;
      var image = /^image\//.test(att.content_type);
      if (image) {
        var link = document.createElement('a');
        link.href = att.url; link.target = '_blank';
        var img = document.createElement('img');
        img.className = 'thumb'; img.src = att.url; img.alt = '照片 ' + att.filename;
        link.appendChild(img); li.appendChild(link);
      }
      var text = document.createElement('span');
      text.className = 'thumb-text';
      var name = document.createElement('a');
      name.href = att.url; name.target = '_blank'; name.className = 'attachment-name'; name.textContent = att.filename;
      var meta = document.createElement('span');
      meta.className = 'muted';
      meta.textContent = (image ? '照片' : 'PDF 文书') + ' · ' + (att.size / 1024).toFixed(1) + ' KB · 已上传';
      text.appendChild(name); text.appendChild(meta); li.appendChild(text);
      var del = document.createElement('form');
      del.method = 'post'; del.hidden = true; del.className = 'delete-form'; del.id = 'delete-' + att.id;
      del.action = '/results/' + form.dataset.result + '/attachments/' + att.id + '/delete';
      del.innerHTML = '<input type="hidden" name="_csrf_token">';
      del.firstChild.value = csrf();
      document.getElementById('attachments').appendChild(del);
      var button = document.createElement('button');
      button.type = 'submit'; button.className = 'secondary remove-attachment'; button.textContent = '删除';
      button.setAttribute('form', del.id);
      li.appendChild(button);
      return li;
    }
    function shrink(file) {
      // Phone photos are large: a long side of 2,048 px is plenty for evidence and uploads faster in the field.
      if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < 1500000 || !window.createImageBitmap) {
        return Promise.resolve(file);
      }
      return createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, 2048 / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement('canvas');
        canvas.width = Math.round(bitmap.width * scale); canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', 0.85); });
      }).then(function (blob) {
        if (!blob || blob.size >= file.size) return file;
        return new File([blob], file.name.replace(/\.[^.]*$/, '') + '.jpg', { type: 'image/jpeg' });
      }).catch(function () { return file; });
    }
    function take(files, kind, anchor) {
      photoError(anchor, '');
      if (kind === 'hazard') {
        var described = document.getElementById('hazard_description_' + anchor);
        if (described && !described.value.trim()) {
          photoError(anchor, '请先填写隐患描述，再为它拍照');
          return Promise.resolve();
        }
      }
      var chain = Promise.resolve();
      Array.prototype.forEach.call(files, function (file) {
        chain = chain.then(function () { return shrink(file); }).then(function (blob) {
          if (maxBytes && blob.size > maxBytes) {
            photoError(anchor, file.name + '：文件过大，最大 ' + Math.round(maxBytes / 1048576) + ' MB');
            return;
          }
          var shot = { id: uuid(), key: key, user: user, kind: kind, anchor: anchor, name: blob.name || file.name || '现场照片.jpg', type: blob.type, blob: blob, at: Date.now() };
          return idb.put('photos', shot).then(function () { showPending(shot); });
        });
      });
      return chain.then(function () {
        if (!navigator.onLine) say('离线：照片已保存在本手机，恢复网络后自动上传');
        return uploadPhotos();
      });
    }
    form.addEventListener('change', function (event) {
      var input = event.target;
      if (!input.classList || !input.classList.contains('photo-input')) return;
      var files = Array.prototype.slice.call(input.files);
      input.value = '';
      take(files, input.dataset.kind, input.dataset.anchor);
    });
    var attachmentForm = document.getElementById('attachment-form');
    if (attachmentForm) {
      // With the script, choosing files uploads them at once: a button in Chinese instead of the browser's own.
      document.getElementById('attachment-file').classList.add('picked');
      document.getElementById('attachment-pick').hidden = false;
      document.getElementById('upload-attachment').hidden = true;
      document.getElementById('attachment-file').addEventListener('change', function () {
        attachmentForm.requestSubmit ? attachmentForm.requestSubmit() : attachmentForm.dispatchEvent(new Event('submit'));
      });
      attachmentForm.addEventListener('submit', function (event) {
        event.preventDefault();
        var input = document.getElementById('attachment-file');
        var files = Array.prototype.slice.call(input.files);
        input.value = '';
        if (!files.length) { photoError('general', '请选择要上传的照片或文书'); return; }
        take(files, 'general', '');
      });
    }
    var uploading = false;
    function uploadPhotos() {
      if (uploading || !navigator.onLine) return Promise.resolve();
      uploading = true;
      return idb.all('photos').then(function (shots) {
        shots = shots.filter(function (s) { return s.key === key; });
        if (!shots.length) return;
        // A photo belongs to a saved result (and a hazard's to a saved hazard): the draft goes first.
        var first = (!form.dataset.result || revision > savedRevision) ? sync('save') : Promise.resolve({ ok: true });
        return first.then(function (r) {
          if (!form.dataset.result || !(r.ok || r.saved)) return;
          var chain = Promise.resolve();
          shots.forEach(function (shot) { chain = chain.then(function () { return upload(shot); }); });
          return chain;
        });
      }).catch(function () {}).then(function () { uploading = false; });
    }
    function upload(shot) {
      var body = new FormData();
      body.append('file', shot.blob, shot.name);
      if (shot.kind === 'point') body.append('check_point_id', shot.anchor);
      if (shot.kind === 'hazard') body.append('hazard_id', shot.anchor);
      say('正在上传照片…');
      return fetch('/field/photos/' + form.dataset.result, {
        method: 'POST', body: body, credentials: 'same-origin', redirect: 'manual', headers: { 'x-csrf-token': csrf() }
      }).then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          if (resp.type === 'opaqueredirect') { say('登录已过期：照片已保存在本手机，请重新登录', true); throw new Error('expired'); }
          return idb.del('photos', shot.id).then(function () {
            var pending = document.querySelector('[data-shot="' + shot.id + '"]');
            if (resp.ok) {
              var li = stored(data);
              if (pending) pending.replaceWith(li); else thumbList(shot).appendChild(li);
              say('<span id="photo-saved">已上传照片 ' + data.filename + '</span> · ' + hhmm());
            } else {
              if (pending) pending.remove();
              photoError(shot.anchor, shot.name + '：' + (data.error || '上传失败'));
              say('照片没有上传：' + (data.error || '上传失败'), true);
            }
          });
        });
      }, function () { offline(); throw new Error('offline'); });
    }
    document.addEventListener('submit', function (event) {
      var del = event.target;
      if (!del.classList || !del.classList.contains('delete-form')) return;
      event.preventDefault();
      if (!confirm('确定删除该附件吗？')) return;
      fetch(del.action, { method: 'POST', body: new FormData(del), credentials: 'same-origin', redirect: 'manual' })
        .then(function (resp) {
          if (resp.type === 'opaqueredirect' || resp.ok) {
            var id = del.id.replace('delete-', '');
            var li = document.querySelector('[data-attachment="' + id + '"]');
            if (li) li.remove();
            say('<span id="attachment-removed">已删除附件</span>');
          } else {
            say('附件没有删除，请稍后重试', true);
          }
        }, function () { say('离线时不能删除附件', true); });
    });

    // ---- on opening: what this phone kept (typed offline, or before the tab was closed) comes back ------------
    idb.get('drafts', key).then(function (rec) {
      if (rec) {
        restore(rec.values);
        base.value = rec.base;
        revision = 1;
        var note = document.getElementById('local-restored');
        note.textContent = '已恢复本手机上尚未同步的填写内容（' + hhmm(rec.at) + '）' + (navigator.onLine ? '，正在同步。' : '，恢复网络后自动同步。');
        note.hidden = false;
        if (navigator.onLine) return sync('save');
        offline();
      }
    }).catch(function () {}).then(function () {
      return idb.all('photos');
    }).then(function (shots) {
      (shots || []).filter(function (s) { return s.key === key; }).forEach(showPending);
      return uploadPhotos();
    }).catch(function () {});
  }
})();
