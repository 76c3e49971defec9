/* The field app's service worker (served as /field/sw.js, scope /field).

   Pages of the field app: from the network, kept for offline use; offline, the kept copy (the page's script then
   restores what was typed on this phone and syncs it when the network is back). The app's own scripts, styles and
   icons: kept at install. Photos already uploaded: kept once seen. Nothing is ever sent from here: saving stays
   the page's business, so the server remains the source of truth. */
'use strict';
var VERSION = 'v2';
var ASSETS = 'spotcheck-field-assets-' + VERSION;
var PAGES = 'spotcheck-field-pages';
var PHOTOS = 'spotcheck-field-photos';
var SHELL = [
  '/static/app.css',
  '/static/field/field.css',
  '/static/field/field.js',
  '/static/field/manifest.webmanifest',
  '/static/field/icon-192.png'
];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(ASSETS).then(function (c) { return c.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf('spotcheck-field-assets-') === 0 && n !== ASSETS;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

var OFFLINE = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" ' +
  'content="width=device-width, initial-scale=1"><title>离线 · 现场检查</title><link rel="stylesheet" ' +
  'href="/static/app.css"><link rel="stylesheet" href="/static/field/field.css"></head><body class="field">' +
  '<main class="field-main" id="main"><h1>现在离线</h1><p>这个页面还没有保存在本手机上。请在有网络时先打开一次，' +
  '之后离线也能填写。</p><p><a href="/field">回到我的检查任务</a></p></main></body></html>';

function fromNetworkKeeping(request, cacheName, key) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected && response.type === 'basic') {
      var copy = response.clone();
      caches.open(cacheName).then(function (c) { return c.put(key || request, copy); });
    }
    return response;
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var path = url.pathname;
  if (request.mode === 'navigate' && (path === '/field' || path.indexOf('/field/') === 0)) {
    event.respondWith(fromNetworkKeeping(request, PAGES, path).catch(function () {
      return caches.match(path, { ignoreSearch: true, ignoreVary: true }).then(function (kept) {
        return kept || new Response(OFFLINE, { headers: { 'content-type': 'text/html; charset=utf-8' } });
      });
    }));
  } else if (path.indexOf('/static/') === 0) {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(request, { ignoreSearch: true });
    }));
  } else if (path.indexOf('/results/attachments/') === 0) {
    event.respondWith(caches.match(request).then(function (kept) {
      return kept || fromNetworkKeeping(request, PHOTOS);
    }));
  }
});
