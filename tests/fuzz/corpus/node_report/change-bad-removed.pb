
node-ainst-1"0.1.0Z2no-slash2/x