
node-ainst-1"0.1.0