// PixlImaging
