# Figure 5, two panels.  Left: session_get latency over time while the cleanup worker (at
# its default settings) removes the backlog, next to the connect-pg-simple read while its
# one unbounded DELETE runs (last round).  Right: the trade-off pgsession.cleanup_wal_rate_limit
# makes, session_cleanup_in_batches at each limit: rows per second (against the DELETE)
# and session_get's p99 during the cleanup against at rest.
# bench.py passes: results (directory), end_worker and end_delete (seconds the two
# cleanups took).  Time 0 is the start of each cleanup.
set terminal pngcairo size 1500,560 font ",10"
set output results.'/cleanup_latency.png'
set multiplot layout 1,2

set title "Read latency while expired sessions are removed (p99 per 250 ms)"
set xlabel "seconds since the cleanup started"
set ylabel "latency (ms)"
set logscale y
set grid
set key top right
set arrow 1 from end_worker, graph 0 to end_worker, graph 1 nohead lc rgb "#1f77b4" dt 2
set arrow 2 from end_delete, graph 0 to end_delete, graph 1 nohead lc rgb "#d62728" dt 2
set arrow 3 from 0, graph 0 to 0, graph 1 nohead lc rgb "#555555" dt 3
plot results.'/cleanup_latency_worker.dat' using 1:2 with lines lw 2 lc rgb "#1f77b4" \
         title "session\\_get p99, during the worker's run (ends at dashed blue)", \
     results.'/cleanup_latency_delete.dat' using 1:2 with lines lw 2 lc rgb "#d62728" \
         title "connect-pg-simple SELECT p99, during one DELETE (ends at dashed red)"

unset arrow 1
unset arrow 2
unset arrow 3
set title "Pacing: pgsession.cleanup\\_wal\\_rate\\_limit (MB/s of WAL; 0 = not paced)"
set xlabel "cleanup rows/s / one DELETE"
set ylabel "session\\_get p99 during the cleanup / at rest"
set logscale x
set logscale y
set key top left
set arrow 4 from graph 0, first 1.5 to graph 1, first 1.5 nohead lc rgb "#2ca02c" dt 2
plot results.'/cleanup_pacing.dat' using 2:3 with linespoints lw 2 pt 7 lc rgb "#1f77b4" \
         title "session\\_cleanup\\_in\\_batches at a limit", \
     results.'/cleanup_pacing.dat' using 2:3:(sprintf("%d", $1)) with labels offset 1.5,0.8 \
         notitle, \
     1/0 with lines lc rgb "#2ca02c" dt 2 title "target 1.5"
unset multiplot
