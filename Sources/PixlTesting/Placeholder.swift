// PixlTesting
