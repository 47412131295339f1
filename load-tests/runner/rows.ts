import { cpus } from 'node:os';
import { carSale } from '../scenarios/car-sale';
import { payments as paymentsSpec } from '../scenarios/payments';
import { phoneRush } from '../scenarios/phone-rush';
import { reservationWave } from '../scenarios/reservation-wave';
import { DriveResult } from './load';
import { Row } from './report';
import { CarResult } from './run-car';
import { PaymentsResult } from './run-payments';
import { NaiveResult } from './run-peers';
import { PhoneResult, RushResult } from './run-phone';
import { ReservationWaveResult } from './run-reservations';

/** Everything one benchmark run measured (absent: the step was not run or failed). */
export interface Measured {
  readonly hello?: DriveResult;
  readonly wave?: ReservationWaveResult;
  readonly floorWave?: ReservationWaveResult;
  readonly floor?: RushResult;
  readonly phone?: PhoneResult;
  readonly naive?: NaiveResult;
  readonly steady?: { rate: number; stack?: RushResult; floor?: RushResult };
  readonly pay?: PaymentsResult;
  readonly floorPay?: PaymentsResult;
  readonly car?: CarResult;
  readonly quantity: number;
  readonly fans: number;
}

/** "wrk 14%" for one run, "wrk 14% / 17%" for the stack's and the floor's. */
export function generatorText(stack?: DriveResult, floor?: DriveResult): string | undefined {
  const one = (d: DriveResult) => `${(d.generator.share * 100).toFixed(0)}%`;
  if (stack && floor) {
    const name = stack.generator.name === floor.generator.name ? stack.generator.name : '?';
    return `${name} ${one(stack)} / ${one(floor)}`;
  }
  const d = stack ?? floor;
  return d ? `${d.generator.name} ${one(d)}` : undefined;
}

/** The share of the machine's cores the rest of the stack (event pipeline, wallet, Kafka) took. */
function pipelineShare(r: RushResult): number {
  const seconds = (r.cpuUsPerGrab.others * r.drive.answered) / 1e6;
  return seconds / Math.max(1e-9, r.drive.seconds * cpus().length);
}

function sellThrough(r: RushResult | undefined): number | undefined {
  if (!r) return undefined;
  return r.sellOutSeconds === undefined ? NaN : r.quantity / r.sellOutSeconds;
}

/** The target table first (each figure against its own floor), then the details. */
export function tableRows(m: Measured): Row[] {
  const t = phoneRush.targets;
  const api = m.phone?.rush;
  const steadyStack = m.steady?.stack;
  const offered = steadyStack ? steadyStack.fans : undefined;
  const steadyKeptUp =
    steadyStack === undefined
      ? undefined
      : steadyStack.drive.answered === offered && steadyStack.errors === 0;
  const steadyRatio =
    steadyStack && m.steady?.floor
      ? steadyStack.drive.latencyMs.p99 / m.steady.floor.drive.latencyMs.p99
      : undefined;
  const wave = m.wave;
  const pipelineCpu = wave ? wave.cpuUs.others / wave.cpuUs.api : undefined;
  return [
    {
      figure: `grabs, phone rush (${m.fans.toLocaleString('en-US')} fans, ${phoneRush.arrival.maxInFlight} in flight, closed loop)`,
      unit: '/s',
      value: api?.drive.rate,
      floor: m.floor?.drive.rate,
      ratio: true,
      target: t.grabRate,
      note: api
        ? `the rest of the stack took ${(pipelineShare(api) * 100).toFixed(0)}% of the cores`
        : undefined,
      generator: generatorText(api?.drive, m.floor?.drive),
      load: api?.drive.load,
    },
    {
      figure: `phone sold out (${m.quantity.toLocaleString('en-US')} units; 2012: ${phoneRush.reference2012.sellOutSeconds} s)`,
      unit: 's',
      value: api ? (api.sellOutSeconds ?? NaN) : undefined,
      floor: m.floor?.sellOutSeconds,
      ratio: true,
      target: t.sellOut,
      generator: generatorText(api?.drive, m.floor?.drive),
    },
    {
      figure: `grab p99 at a steady ${m.steady ? m.steady.rate.toLocaleString('en-US') : '?'}/s (0.6x the floor's rate, open model, from when each was due)`,
      unit: 'ms',
      value: steadyStack?.drive.latencyMs.p99,
      floor: m.steady?.floor?.drive.latencyMs.p99,
      ratio: true,
      target: `<= ${t.steadyP99.value}x, every request answered`,
      met:
        steadyRatio === undefined || steadyKeptUp === undefined
          ? undefined
          : steadyRatio <= t.steadyP99.value && steadyKeptUp,
      note: steadyStack
        ? `answered ${steadyStack.drive.answered.toLocaleString('en-US')} of ${offered?.toLocaleString('en-US')}, ${steadyStack.errors} errors`
        : undefined,
      generator: generatorText(steadyStack?.drive, m.steady?.floor?.drive),
      load: steadyStack?.drive.load,
    },
    {
      figure: `reservations (${(wave?.fans ?? 0).toLocaleString('en-US')} fans, ${reservationWave.arrival.maxInFlight} in flight)`,
      unit: '/s',
      value: wave?.drive.rate,
      floor: m.floorWave?.drive.rate,
      ratio: true,
      target: reservationWave.targets.rate,
      generator: generatorText(wave?.drive, m.floorWave?.drive),
      load: wave?.drive.load,
    },
    {
      figure: `payments (${(m.pay?.paid ?? 0).toLocaleString('en-US')} phone orders, ${paymentsSpec.arrival.maxInFlight} in flight)`,
      unit: '/s',
      value: m.pay?.pay.rate,
      floor: m.floorPay?.pay.rate,
      ratio: true,
      target: paymentsSpec.targets.rate,
      generator: generatorText(m.pay?.pay, m.floorPay?.pay),
      load: m.pay?.pay.load,
    },
    {
      figure:
        'CPU per reservation: the rest of the stack (worker, analytics, wallet, Kafka) vs the API',
      unit: 'us',
      value: wave?.cpuUs.others,
      floor: wave?.cpuUs.api,
      floorLabel: 'API',
      ratio: true,
      target: reservationWave.targets.pipelineCpu,
      met:
        pipelineCpu === undefined
          ? undefined
          : pipelineCpu <= reservationWave.targets.pipelineCpu.value && wave?.pipelineDrained,
      note: wave
        ? wave.pipelineDrained
          ? 'read once analytics had counted every reservation'
          : 'analytics had NOT counted every reservation within 60 s'
        : undefined,
    },
    // Details: what explains the rows above.
    {
      figure: 'grab errors (not 201 held / 409 SOLD_OUT), phone rush',
      unit: '',
      value: api?.errors,
      floor: m.floor?.errors,
      target: t.errors,
    },
    {
      figure: 'units sold above stock',
      unit: '',
      value: m.phone ? Math.max(0, m.phone.oversold) : undefined,
      floor: m.floor ? Math.max(0, m.floor.held - m.quantity) : undefined,
      target: t.oversold,
    },
    {
      figure: 'sell-through until sold out (units/s)',
      unit: '/s',
      value: sellThrough(api),
      floor: sellThrough(m.floor),
      ratio: true,
    },
    {
      figure: 'grab p50, closed loop',
      unit: 'ms',
      value: api?.drive.latencyMs.p50,
      floor: m.floor?.drive.latencyMs.p50,
    },
    {
      figure: 'grab p99, closed loop (queueing at the door)',
      unit: 'ms',
      value: api?.drive.latencyMs.p99,
      floor: m.floor?.drive.latencyMs.p99,
    },
    {
      figure: 'grab p50 at the steady rate',
      unit: 'ms',
      value: steadyStack?.drive.latencyMs.p50,
      floor: m.steady?.floor?.drive.latencyMs.p50,
    },
    {
      figure: 'grabs answered per second at the steady rate',
      unit: '/s',
      value: steadyStack?.drive.rate,
      floor: m.steady?.floor?.drive.rate,
      ratio: true,
    },
    {
      figure: 'CPU per grab, server process (API / floor)',
      unit: 'us',
      value: api?.cpuUsPerGrab.server,
      floor: m.floor?.cpuUsPerGrab.server,
      ratio: true,
    },
    {
      figure: 'CPU per grab, Redis',
      unit: 'us',
      value: api?.cpuUsPerGrab.redis,
      floor: m.floor?.cpuUsPerGrab.redis,
      ratio: true,
    },
    {
      figure: 'CPU per grab, rest of the stack (worker, analytics, wallet, Kafka)',
      unit: 'us',
      value: api?.cpuUsPerGrab.others,
    },
    {
      figure: 'CPU per reservation, server process (API / floor)',
      unit: 'us',
      value: wave?.cpuUs.api,
      floor: m.floorWave?.cpuUs.api,
      ratio: true,
    },
    {
      figure: 'CPU per reservation, Redis',
      unit: 'us',
      value: wave?.cpuUs.redis,
      floor: m.floorWave?.cpuUs.redis,
      ratio: true,
    },
    {
      figure: 'Redis memory per reservation',
      unit: 'B',
      value: wave?.bytesPerReservation,
      floor: m.floorWave?.bytesPerReservation,
      target: reservationWave.targets.memory,
    },
    {
      figure: '1.3 M reservations at the measured rate',
      unit: 's',
      value: wave ? reservationWave.fans / wave.drive.rate : undefined,
      floor: m.floorWave ? reservationWave.fans / m.floorWave.drive.rate : undefined,
    },
    {
      figure: 'wallet credits (operator top-ups)',
      unit: '/s',
      value: m.pay?.credits.rate,
      floor: m.floorPay?.credits.rate,
      ratio: true,
      generator: generatorText(m.pay?.credits, m.floorPay?.credits),
    },
    {
      figure: 'payment p99',
      unit: 'ms',
      value: m.pay?.pay.latencyMs.p99,
      floor: m.floorPay?.pay.latencyMs.p99,
    },
    {
      figure: 'phone orders paid, all',
      unit: 's',
      value: m.pay?.pay.seconds,
      floor: m.floorPay?.pay.seconds,
      ratio: true,
    },
    {
      figure: 'CPU per payment, server process (API / floor)',
      unit: 'us',
      value: m.pay?.cpuUsPerPayment.server,
      floor: m.floorPay?.cpuUsPerPayment.server,
      ratio: true,
    },
    {
      figure:
        'CPU per payment, rest of the stack (wallet, worker, analytics, Kafka; not PostgreSQL)',
      unit: 'us',
      value: m.pay?.cpuUsPerPayment.others,
    },
    {
      figure: 'naive peer (one PostgreSQL row): grabs/s, its rush at 0.1 scale',
      unit: '/s',
      value: m.naive?.drive.rate,
      floor: m.floor?.drive.rate,
      ratio: true,
      note: m.naive ? `sold ${sellThrough(m.naive)?.toFixed(0)} units/s` : undefined,
      generator: generatorText(m.naive?.drive),
    },
    {
      figure: `car: units out above ${carSale.drop.quantity} / units adrift`,
      unit: '',
      value: m.car ? Math.max(0, m.car.oversold) + Math.abs(m.car.unitsAdrift) : undefined,
      target: { label: 'car', kind: 'max', value: 0, unit: '' },
      note: m.car
        ? `paid ${m.car.stats?.paid ?? m.car.paid}, expired ${m.car.stats?.expired ?? '?'}, remaining ${m.car.stats?.remaining ?? '?'}, ${m.car.arrivals} fans`
        : undefined,
    },
    {
      figure: 'load generator ceiling (hello-world)',
      unit: '/s',
      value: m.hello?.rate,
      generator: generatorText(m.hello),
      load: m.hello?.load,
    },
  ];
}
