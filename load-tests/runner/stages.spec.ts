import { bucketQuantile, parsePrometheus } from './stages';

describe('stage breakdown helpers', () => {
  it('reads Prometheus text samples by their full name and labels', () => {
    const samples = parsePrometheus(
      [
        '# HELP relay_batch_entries Outbox stream entries per batch',
        '# TYPE relay_batch_entries histogram',
        'relay_batch_entries_bucket{le="10"} 4',
        'relay_batch_entries_bucket{le="+Inf"} 6',
        'relay_batch_entries_sum 93',
        'nodejs_eventloop_lag_p99_seconds 0.0123',
        '',
      ].join('\n'),
    );
    expect(samples.get('relay_batch_entries_bucket{le="+Inf"}')).toBe(6);
    expect(samples.get('relay_batch_entries_sum')).toBe(93);
    expect(samples.get('nodejs_eventloop_lag_p99_seconds')).toBe(0.0123);
    expect(samples.size).toBe(4);
  });

  it('interpolates a quantile inside its bucket, like Prometheus', () => {
    // 100 observations: 50 <= 0.01 s, 90 <= 0.1 s, all <= 1 s.
    const buckets: [number, number][] = [
      [0.01, 50],
      [0.1, 90],
      [1, 100],
      [Infinity, 100],
    ];
    expect(bucketQuantile(buckets, 0.5)).toBeCloseTo(0.01);
    expect(bucketQuantile(buckets, 0.7)).toBeCloseTo(0.055);
    expect(bucketQuantile(buckets, 0.99)).toBeCloseTo(0.91);
    expect(bucketQuantile([[0.01, 0]], 0.99)).toBeNaN();
    // Past the last finite bucket: its bound is the best that can be said.
    expect(
      bucketQuantile(
        [
          [1, 90],
          [Infinity, 100],
        ],
        0.99,
      ),
    ).toBe(1);
  });
});
