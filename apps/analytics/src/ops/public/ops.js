// The operators' dashboard: picks a drop, opens its live stream (GET /v1/drops/:id/live, a
// stats snapshot per server-sent event) and draws each snapshot. Chart.js is served by the app
// itself (/ops/assets/chart.umd.min.js). The token comes from ?access_token= or the input box
// and stays in this browser's localStorage.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const colors = {
    held: '#f5b83d',
    paid: '#33c27f',
    expired: '#8a96b3',
    cancelled: '#e5566b',
    accent: '#ff6b3d',
    grid: 'rgba(138,150,179,0.15)',
    text: '#8a96b3',
    palette: [
      '#ff6b3d',
      '#4da3ff',
      '#33c27f',
      '#f5b83d',
      '#b07cff',
      '#e5566b',
      '#38d6d6',
      '#8a96b3',
    ],
  };
  let token = params.get('access_token') || localStorage.getItem('flashdrop.ops.token') || '';
  let dropId = params.get('drop') || '';
  let source = null;
  let frames = 0;
  let last = {};
  const charts = {};

  $('token').value = token;
  $('drop-id').value = dropId;

  function fmt(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US') : '—';
  }
  // Whole units of the currency on the card (fits a laptop screen); the exact amount in its title.
  function money(minor, currency, exact) {
    if (typeof minor !== 'number') return '—';
    const options = exact
      ? { minimumFractionDigits: 2, maximumFractionDigits: 2 }
      : minor >= 1e8
        ? { notation: 'compact', maximumFractionDigits: 2 }
        : { maximumFractionDigits: 0 };
    if (currency)
      Object.assign(options, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
    return (minor / 100).toLocaleString('en-US', options);
  }
  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString() : '—';
  }
  function setText(id, value, bump) {
    const el = $(id);
    if (!el || el.textContent === value) return;
    el.textContent = value;
    if (bump) {
      el.classList.add('bump');
      setTimeout(() => el.classList.remove('bump'), 150);
    }
  }
  function setStatus(state, text) {
    $('live-dot').className = 'dot ' + state;
    $('live-text').textContent = text;
  }

  function makeCharts() {
    if (!window.Chart) return;
    Chart.defaults.color = colors.text;
    Chart.defaults.borderColor = colors.grid;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.animation = { duration: 250 };
    Chart.defaults.maintainAspectRatio = false;
    charts.sell = new Chart($('chart-sell'), {
      type: 'bar',
      data: {
        labels: [],
        datasets: [
          {
            label: 'units grabbed / s',
            data: [],
            backgroundColor: colors.accent,
            borderRadius: 2,
            order: 2,
          },
          {
            label: 'units paid / s',
            data: [],
            type: 'line',
            borderColor: colors.paid,
            backgroundColor: colors.paid,
            pointRadius: 0,
            tension: 0.25,
            borderWidth: 2,
            order: 1,
          },
        ],
      },
      options: {
        scales: {
          x: { ticks: { maxTicksLimit: 12, maxRotation: 0 }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 12 } } },
      },
    });
    charts.units = new Chart($('chart-units'), {
      type: 'doughnut',
      data: {
        labels: ['held', 'paid', 'expired', 'cancelled'],
        datasets: [
          {
            data: [0, 0, 0, 0],
            borderWidth: 0,
            backgroundColor: [colors.held, colors.paid, colors.expired, colors.cancelled],
          },
        ],
      },
      options: {
        cutout: '62%',
        plugins: { legend: { position: 'right', labels: { boxWidth: 12 } } },
      },
    });
    charts.rejections = new Chart($('chart-rejections'), {
      type: 'bar',
      data: {
        labels: [],
        datasets: [
          { label: 'refused grabs', data: [], backgroundColor: colors.cancelled, borderRadius: 3 },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { grid: { display: false } },
        },
      },
    });
    charts.shares = new Chart($('chart-shares'), {
      type: 'bar',
      data: {
        labels: [],
        datasets: [{ label: 'shares', data: [], backgroundColor: colors.palette, borderRadius: 3 }],
      },
      options: {
        plugins: { legend: { display: false } },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 } },
          x: { grid: { display: false } },
        },
      },
    });
  }

  function sorted(record) {
    return Object.entries(record || {}).sort((a, b) => b[1] - a[1]);
  }

  function draw(s) {
    frames++;
    const rejected = Object.values(s.rejections || {}).reduce((a, b) => a + b, 0);
    setText('remaining', fmt(s.remaining), true);
    setText('quantity', fmt(s.quantity));
    setText('held', fmt(s.held), true);
    setText('paid', fmt(s.paid), true);
    setText('paid-orders', fmt(s.paidOrders));
    setText('revenue', money(s.revenueMinor, s.currency), true);
    $('revenue').title = money(s.revenueMinor, s.currency, true);
    // Revenue is what the payments took; the referral rewards were paid out of it.
    setText(
      'currency',
      (s.walletDebits > 0 ? 'wallet debits: ' + fmt(s.walletDebits) : 'from paid orders') +
        (s.referralRewardsMinor > 0
          ? ' · referral rewards: ' + money(s.referralRewardsMinor, s.currency)
          : ''),
    );
    setText('attempts', fmt(s.grabAttempts), true);
    setText('rejected', fmt(rejected));
    setText('expired', fmt(s.expired), true);
    setText('cancelled', fmt(s.cancelled), true);
    setText('reservations', fmt(s.reservations), true);
    setText('referrals', fmt(s.referrals));
    setText('shares', fmt(s.shares), true);
    setText('entrants', fmt(s.entrants), true);
    setText('drawn', s.drawnAt ? 'drawn at ' + time(s.drawnAt) : 'not a draw, or not drawn yet');
    setText('winners', fmt(s.winners), true);
    setText('waitlisted', fmt(s.waitlisted), true);
    setText('waitlist-joined', fmt(s.waitlistJoined));
    setText('backfilled', fmt(s.backfilled), true);
    // Group buy: paid members' units waiting for their group, and the groups that ended.
    setText('grouped', fmt(s.grouped), true);
    setText('escrow', money(s.escrowMinor, s.currency));
    setText('groups-completed', fmt(s.groupsCompleted));
    setText('groups-failed', fmt(s.groupsFailed));
    setText('refunded', fmt(s.refunded), true);
    setText('first-sale', time(s.firstSaleAt));
    setText('sold-out', time(s.soldOutAt));
    if (s.title) setText('drop-title', s.title);
    const phase = s.phase || (s.paused ? 'paused' : '—');
    $('phase').textContent = phase.replace(/_/g, ' ');
    $('phase').className = 'badge ' + phase;
    const q = Math.max(s.quantity || 0, 1);
    $('meter-held').style.width = (100 * s.held) / q + '%';
    $('meter-paid').style.width = (100 * s.paid) / q + '%';
    setText('updated', new Date(s.generatedAt).toLocaleTimeString());
    setText('frames', String(frames));
    document.body.dataset.frames = String(frames);

    if (charts.sell) {
      // The whole sale: a bar per second, or per bucket of seconds once the sale is long.
      const points = s.sellThrough || [];
      const width = points.length > 0 ? points[0].seconds || 1 : 1;
      const per = width > 1 ? width + ' s' : 's';
      charts.sell.data.datasets[0].label = 'units grabbed / ' + per;
      charts.sell.data.datasets[1].label = 'units paid / ' + per;
      const long = points.length * width > 3600;
      charts.sell.data.labels = points.map((p) =>
        new Date(p.at).toLocaleTimeString(
          [],
          long ? { hour: '2-digit', minute: '2-digit' } : { minute: '2-digit', second: '2-digit' },
        ),
      );
      setText('sell-span', points.length > 0 ? '(the whole sale, per ' + per + ')' : '');
      charts.sell.data.datasets[0].data = points.map((p) => p.grabbed);
      charts.sell.data.datasets[1].data = points.map((p) => p.paid);
      charts.sell.update('none');
      charts.units.data.datasets[0].data = [s.held, s.paid, s.expired, s.cancelled];
      charts.units.update();
      const rej = sorted(s.rejections);
      charts.rejections.data.labels = rej.map((r) => r[0]);
      charts.rejections.data.datasets[0].data = rej.map((r) => r[1]);
      charts.rejections.update('none');
      const sh = sorted(s.sharesByChannel);
      charts.shares.data.labels = sh.map((r) => r[0]);
      charts.shares.data.datasets[0].data = sh.map((r) => r[1]);
      charts.shares.update('none');
    }
    const rows = (s.topReferrers || []).map(
      (r, i) =>
        '<tr><td>' +
        (i + 1) +
        '</td><td title="' +
        esc(r.referrerId) +
        '">' +
        esc(r.referrerId) +
        '</td><td>' +
        fmt(r.referrals) +
        '</td></tr>',
    );
    const html = rows.length
      ? rows.join('')
      : '<tr><td colspan="3" class="muted">no referrals yet</td></tr>';
    if ($('referrers').innerHTML !== html) $('referrers').innerHTML = html;
    last = s;
  }

  function esc(text) {
    return String(text).replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  }

  function watch() {
    if (source) source.close();
    if (!dropId || !token) {
      setStatus('', !token ? 'enter an operator token' : 'pick a drop');
      return;
    }
    const url =
      '/v1/drops/' + encodeURIComponent(dropId) + '/live?access_token=' + encodeURIComponent(token);
    setStatus('', 'connecting…');
    source = new EventSource(url);
    source.onopen = () => setStatus('live', 'live');
    source.onmessage = (e) => {
      setStatus('live', 'live');
      draw(JSON.parse(e.data));
    };
    source.onerror = () => setStatus('down', 'reconnecting…');
    // The drop's report after the sale; the page reads the token this page keeps.
    $('report-link').href = '/ops/report?drop=' + encodeURIComponent(dropId);
    $('report-link').hidden = false;
    const next = new URL(location.href);
    next.searchParams.set('drop', dropId);
    next.searchParams.delete('access_token');
    history.replaceState(null, '', next);
  }

  async function loadDrops() {
    if (!token) return;
    try {
      const res = await fetch('/v1/ops/drops', { headers: { authorization: 'Bearer ' + token } });
      if (!res.ok) {
        setStatus(
          'down',
          res.status === 401 || res.status === 403 ? 'token refused' : 'drops unavailable',
        );
        return;
      }
      const drops = await res.json();
      const select = $('drop-select');
      select.innerHTML =
        '<option value="">— pick a drop (' +
        drops.length +
        ') —</option>' +
        drops
          .map(
            (d) =>
              '<option value="' +
              esc(d.id) +
              '">' +
              esc(
                (d.title || d.id) +
                  (d.quantity ? ' · ' + d.quantity.toLocaleString('en-US') + ' units' : ''),
              ) +
              '</option>',
          )
          .join('');
      if (dropId) select.value = dropId;
    } catch (e) {
      /* the live stream still works with a pasted id */
    }
  }

  // Every brand's webhook backlog (GET /v1/ops/webhooks): pending, of those failing (their
  // last attempt failed), given up, delivered. Polled: it changes slowly and is not per drop.
  async function loadWebhooks() {
    if (!token) return;
    try {
      const res = await fetch('/v1/ops/webhooks', {
        headers: { authorization: 'Bearer ' + token },
      });
      if (!res.ok) return;
      const brands = await res.json();
      const cell = (n, cls) => '<td class="' + (n > 0 ? cls : '') + '">' + fmt(n) + '</td>';
      const html = brands.length
        ? brands
            .map(
              (b) =>
                '<tr><td>' +
                esc(b.brandId) +
                '</td>' +
                cell(b.pending, '') +
                cell(b.failing, 'warn') +
                cell(b.failed, 'bad') +
                cell(b.delivered, '') +
                '</tr>',
            )
            .join('')
        : '<tr><td colspan="5" class="muted">no webhooks registered</td></tr>';
      if ($('webhooks').innerHTML !== html) $('webhooks').innerHTML = html;
    } catch (e) {
      /* shown again at the next poll */
    }
  }

  // The report page reads the token from this browser's storage (it may have come in the URL).
  $('report-link').addEventListener('click', () =>
    localStorage.setItem('flashdrop.ops.token', token),
  );
  $('drop-select').addEventListener('change', (e) => {
    dropId = e.target.value;
    $('drop-id').value = dropId;
    watch();
  });
  $('connect').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    localStorage.setItem('flashdrop.ops.token', token);
    dropId = $('drop-id').value.trim() || $('drop-select').value;
    loadDrops();
    loadWebhooks();
    watch();
  });

  makeCharts();
  loadDrops();
  watch();
  loadWebhooks();
  setInterval(loadWebhooks, 5000);
})();
