COPY {schema}.{partition} ({columns}) FROM STDIN (FORMAT csv);
