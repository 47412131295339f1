// The report after the sale: one drop's figures (GET /v1/drops/:id/report) drawn for its brand
// or an operator. The drop and the token come from ?drop= and ?access_token=; the CSV is the
// same route's ?format=csv, fetched with the token and saved.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const token = params.get('access_token') || localStorage.getItem('flashdrop.ops.token') || '';
  const dropId = params.get('drop') || '';
  const headers = { authorization: 'Bearer ' + token };
  const route = '/v1/drops/' + encodeURIComponent(dropId) + '/report';

  // The token is not left in the address bar (or in the history) once read.
  if (params.has('access_token')) {
    const clean = new URL(location.href);
    clean.searchParams.delete('access_token');
    history.replaceState(null, '', clean);
  }

  const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '—');
  const set = (id, text) => ($(id).textContent = text);
  const money = (minor, currency) => (minor / 100).toFixed(2) + ' ' + currency;

  function duration(seconds) {
    if (seconds === null) return 'never sold out';
    if (seconds < 120) return seconds.toFixed(1) + ' s';
    const m = Math.floor(seconds / 60);
    return m + ' min ' + Math.round(seconds - m * 60) + ' s';
  }

  function show(r) {
    set('drop-title', r.title);
    set('phase', r.phase);
    set('final', r.final ? 'final figures' : 'figures so far, as of ' + r.generatedAt);
    set('units-paid', fmt(r.units.paid));
    set('quantity', fmt(r.quantity));
    set('revenue', money(r.payments.amountMinor - r.refunds.amountMinor, r.currency));
    set('buyers', fmt(r.uniqueBuyers));
    set('fans', fmt(r.uniqueFans));
    set('paid-share', r.paidShare === null ? '—' : (r.paidShare * 100).toFixed(1) + '%');
    set('sell-out', duration(r.timeToSellOutSeconds));
    for (const k of ['total', 'paid', 'expired', 'cancelled', 'refunded', 'held']) {
      set('orders-' + k, fmt(r.orders[k]));
    }
    const rows = $('refusals');
    rows.textContent = '';
    const reasons = r.refusals ? Object.entries(r.refusals.byReason) : [];
    if (!r.refusals) reasons.push(['(analytics not answering)', null]);
    for (const [code, n] of reasons) {
      const tr = document.createElement('tr');
      const a = document.createElement('td');
      const b = document.createElement('td');
      a.textContent = code;
      b.textContent = fmt(n);
      tr.append(a, b);
      rows.append(tr);
    }
    const s = r.perSecond;
    const series = (key) => s.map((x) => x[key]);
    new Chart($('chart-seconds'), {
      type: 'bar',
      data: {
        labels: s.map((x) => x.at.slice(11, 19)),
        datasets: [
          { label: 'grabbed', data: series('grabbed'), backgroundColor: '#4f8cff' },
          { label: 'paid', data: series('paid'), backgroundColor: '#33c27f' },
          { label: 'expired', data: series('expired'), backgroundColor: '#f5b83d' },
          { label: 'cancelled', data: series('cancelled'), backgroundColor: '#e5566b' },
          { label: 'refunded', data: series('refunded'), backgroundColor: '#b07cff' },
        ],
      },
      options: { animation: false, scales: { y: { beginAtZero: true } } },
    });
    $('csv').disabled = false;
  }

  async function downloadCsv() {
    const res = await fetch(route + '?format=csv', { headers });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = 'report-' + dropId + '.csv';
    a.click();
    URL.revokeObjectURL(url);
  }

  async function load() {
    const res = await fetch(route, { headers });
    const body = await res.json();
    if (res.status !== 200) {
      $('error').hidden = false;
      set('error', res.status + ' ' + body.error + ': ' + body.message);
      set('final', 'no report');
      document.body.dataset.loaded = 'error';
      return;
    }
    show(body);
    document.body.dataset.loaded = 'ok';
  }

  $('csv').addEventListener('click', () => void downloadCsv());
  void load();
})();
