# bench/results/latest.png: kbt against Linux per workload, Linux = 1, on a
# log axis; bigger is better everywhere (latency: Linux p99 / kbt p99).
# Bars: the medians, labelled with their absolute values; black dots: every
# run; red dashes: the issue's targets. The data come from
# bench/report/report.py, which runs this as
#   gnuplot -e 'bars="F"; runs="F"; out="F.png"; ymin=Y; ymax=Y; n=N; subtitle="S"' chart.gp
set terminal pngcairo size 1200,700 font "DejaVu Sans,11" noenhanced
set output out
set title "kbt vs Linux, one core each (Linux = 1, bigger is better)\n".subtitle
set logscale y
set yrange [ymin:ymax]
set xrange [-0.6:n - 0.4]
set ylabel "relative to Linux (log scale)"
set format y "%gx"
set grid ytics
set key top left box opaque
set datafile missing "?"
set style fill solid 0.85 border -1
set xtics scale 0
w = 0.36
plot bars using 1:(ymin):xtic(2) with points ps 0 notitle, \
     bars using ($1 - 0.2):3:($1 - 0.2 - w / 2):($1 - 0.2 + w / 2):(ymin):3 \
       with boxxyerror lc rgb "#4c72b0" title "Linux", \
     bars using ($1 + 0.2):4:($1 + 0.2 - w / 2):($1 + 0.2 + w / 2):(ymin):4 \
       with boxxyerror lc rgb "#dd8452" title "kbt", \
     runs using 1:2 with points pt 7 ps 0.7 lc rgb "black" title "each run", \
     bars using ($1 - 0.45):5:(0.9):(0) with vectors nohead dt 2 lw 2 lc rgb "red" title "target", \
     bars using ($1 - 0.2):3:6 with labels offset 0, 0.8 font ",9" notitle, \
     bars using ($1 + 0.2):4:7 with labels offset 0, 0.8 font ",9" notitle
