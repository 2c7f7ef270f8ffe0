# Plots figure 10 (churn): the size of pgsession.sessions (table + indexes) and
# session_get's throughput at the end of each turnover of the session population.
# bench/churn.py passes: results (the directory holding churn.dat).
set terminal pngcairo size 1000,560 font ",10"
set output results.'/churn.png'
set title "pgsession.sessions under churn: size and session\\_get throughput per turnover"
set xlabel "turnover (the whole population replaced once)"
set ylabel "size (MB)"
set y2label "session\\_get calls/s (1 connection, flat out)"
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
set grid
set key bottom right
plot results.'/churn.dat' using 1:3 with linespoints lw 2 lc rgb "#1f77b4" \
         title "table + indexes", \
     results.'/churn.dat' using 1:4 with lines lw 1 lc rgb "#1f77b4" dt 2 title "table", \
     results.'/churn.dat' using 1:5 with lines lw 1 lc rgb "#2ca02c" dt 2 title "primary key", \
     results.'/churn.dat' using 1:6 with lines lw 1 lc rgb "#9467bd" dt 2 \
         title "cleanup\\_after index", \
     results.'/churn.dat' using 1:12 axes x1y2 with linespoints lw 2 lc rgb "#d62728" \
         title "session\\_get calls/s (right axis)"
